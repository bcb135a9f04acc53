#include "services/gateway/media_reply.h"

#include <gtest/gtest.h>

#include "crm/common/v1/media.pb.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "google/protobuf/descriptor.pb.h"

namespace crm::gateway {
namespace {

TEST(MediaReplyTest, AFileIsItsBytesTypeAndACleanedName) {
  reporting::v1::ReportFile file;
  file.set_content_type("image/svg+xml");
  file.set_filename("won\"lost\\\n2026.svg");
  file.set_content("<svg/>");
  std::optional<MediaReply> reply = AsMedia(file);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->content_type, "image/svg+xml");
  EXPECT_EQ(reply->filename, "wonlost2026.svg");
  EXPECT_EQ(reply->content, "<svg/>");
}

TEST(MediaReplyTest, ATypeDownloadsDoNotProduceIsServedAsBytesToSave) {
  reporting::v1::ReportFile file;
  file.set_content_type("text/html");
  file.set_content("<script>alert(1)</script>");
  ASSERT_TRUE(AsMedia(file).has_value());
  EXPECT_EQ(AsMedia(file)->content_type, "application/octet-stream");
}

TEST(MediaReplyTest, MessagesNotDeclaredFilesAreNotMedia) {
  contacts::v1::Contact contact;
  contact.set_given_name("Anna");
  EXPECT_FALSE(AsMedia(contact).has_value());
  EXPECT_TRUE(CheckMediaDeclaration(*contact.GetDescriptor()).ok());
}

TEST(MediaReplyTest, ADeclarationWithoutTheFileFieldsIsRefused) {
  google::protobuf::FileDescriptorProto proto;
  proto.set_name("bad_media.proto");
  proto.set_package("crm.test");
  proto.set_syntax("proto3");
  proto.add_dependency("crm/common/v1/media.proto");
  google::protobuf::DescriptorProto* message = proto.add_message_type();
  message->set_name("NotQuiteAFile");
  message->mutable_options()->SetExtension(crm::common::v1::media, true);
  google::protobuf::FieldDescriptorProto* field = message->add_field();
  field->set_name("content");
  field->set_number(1);
  field->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);  // not bytes
  field->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  const google::protobuf::FileDescriptor* file = pool.BuildFile(proto);
  ASSERT_NE(file, nullptr);
  const absl::Status status = CheckMediaDeclaration(*file->message_type(0));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("crm.test.NotQuiteAFile"), std::string::npos);
}

}  // namespace
}  // namespace crm::gateway

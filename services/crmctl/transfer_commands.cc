#include "services/crmctl/transfer_commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/crmctl/progress.h"
#include "services/crmctl/rpc.h"
#include "services/crmctl/table.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::contacts::v1;

constexpr size_t kChunkBytes = 256 * 1024;

const char* OutcomeName(v1::ImportRowResult::Outcome outcome) {
  switch (outcome) {
    case v1::ImportRowResult::CREATED:
      return "created";
    case v1::ImportRowResult::MERGED:
      return "merged";
    case v1::ImportRowResult::DUPLICATE_SKIPPED:
      return "duplicate";
    case v1::ImportRowResult::INVALID:
      return "invalid";
    default:
      return "?";
  }
}

}  // namespace

int ImportContactsFile(v1::ContactsService::Stub& stub, const std::string& path,
                       const TransferOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(absl::StrCat("cannot read ", path));
  file.seekg(0, std::ios::end);
  const int64_t size = file.tellg();
  file.seekg(0);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + options.token);
  v1::ImportContactsResponse response;
  auto writer = stub.ImportContacts(&context, &response);
  v1::ImportContactsRequest first;
  v1::ImportOptions* import = first.mutable_options();
  import->set_import_id(options.import_id.empty()
                            ? absl::StrCat("crmctl-", std::hash<std::string>{}(path), "-", size)
                            : options.import_id);
  import->set_dry_run(options.dry_run);
  for (absl::string_view pair : absl::StrSplit(options.mapping, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    (*import->mutable_column_mapping())[kv.first] = kv.second;
  }
  writer->Write(first);
  Progress progress("bytes");
  std::string buffer(kChunkBytes, '\0');
  int64_t sent = 0;
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize n = file.gcount();
    if (n <= 0) break;
    v1::ImportContactsRequest chunk;
    chunk.set_chunk(buffer.substr(0, static_cast<size_t>(n)));
    if (!writer->Write(chunk)) break;  // the server ended the call; Finish() says why
    sent += n;
    progress.Update(sent, size);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  progress.Finish();
  if (!status.ok())
    return Fail(absl::StrCat(status.error_message(), " (", status.error_code(), ")"));
  if (options.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(response, &json, print);
    std::cout << json;
    return 0;
  }
  std::cout << absl::StrCat("import ", response.import_id(), ": ", response.created(), " created, ",
                            response.merged(), " merged, ", response.duplicates(),
                            " duplicates skipped, ", response.invalid(), " invalid\n");
  if (!response.ignored_columns().empty()) {
    std::cout << "ignored columns: " << absl::StrJoin(response.ignored_columns(), ", ") << "\n";
  }
  Table table({"LINE", "OUTCOME", "CONTACT", "ERROR"});
  int shown = 0;
  for (const auto& row : response.rows()) {
    if (row.outcome() == v1::ImportRowResult::CREATED) continue;  // the common case: counted
    if (++shown > 50) break;
    table.AddRow(
        {absl::StrCat(row.line()), OutcomeName(row.outcome()), row.contact(), row.error()});
  }
  if (shown > 0) std::cout << table.Render(options.colour);
  if (shown > 50) std::cout << "(more in --json output)\n";
  return response.invalid() > 0 ? 3 : 0;
}

int ExportSegment(v1::ContactsService::Stub& stub, const std::string& segment,
                  const TransferOptions& options) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + options.token);
  v1::ExportSegmentRequest request;
  request.set_name(segment);
  request.set_message_template(options.message_template);
  auto reader = stub.ExportSegment(&context, request);
  std::ofstream file;
  const bool to_stdout = options.out.empty() || options.out == "-";
  if (!to_stdout) {
    file.open(options.out, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(absl::StrCat("cannot write ", options.out));
  }
  std::ostream& out = to_stdout ? std::cout : file;
  Progress progress("rows");
  v1::ExportChunk chunk;
  int64_t rows = 0;
  while (reader->Read(&chunk)) {
    out << chunk.data();
    rows = chunk.rows_done();
    progress.Update(chunk.rows_done(), chunk.rows_total());
  }
  progress.Finish();
  grpc::Status status = reader->Finish();
  if (!status.ok())
    return Fail(absl::StrCat(status.error_message(), " (", status.error_code(), ")"));
  if (!to_stdout) std::cerr << "wrote " << rows << " contacts to " << options.out << "\n";
  return 0;
}

}  // namespace crm::ctl

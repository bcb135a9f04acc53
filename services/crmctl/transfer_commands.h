// crmctl commands that move files: `contacts import FILE` and `segments export NAME`.
#pragma once

#include <string>
#include <vector>

#include "crm/contacts/v1/contacts_service.grpc.pb.h"

namespace crm::ctl {

struct TransferOptions {
  std::string token;
  bool json = false;
  bool colour = false;
  std::string import_id;         // import: default derived from the file's name and size
  std::string mapping;           // import: "Header=field,Other=field"
  bool dry_run = false;          // import
  std::string out;               // export: file to write ("-" or "" for stdout)
  std::string message_template;  // export
};

int ImportContactsFile(crm::contacts::v1::ContactsService::Stub& stub, const std::string& path,
                       const TransferOptions& options);
int ExportSegment(crm::contacts::v1::ContactsService::Stub& stub, const std::string& segment,
                  const TransferOptions& options);

}  // namespace crm::ctl

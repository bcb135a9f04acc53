// Imports a CSV file of contacts (the seed's three reps' spreadsheets): rows arrive in chunks,
// are read with CsvReader, mapped with MapRow, normalised like any create, and written in
// batches. Each row ends CREATED, MERGED into the contact that already holds one of its emails or
// phones (new details added), DUPLICATE_SKIPPED (nothing new), or INVALID (nothing written).
#pragma once

#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/fields/definition_store.h"
#include "crm/contacts/v1/contacts_service.pb.h"
#include "services/contacts/contacts_store.h"
#include "services/contacts/csv_reader.h"
#include "services/contacts/import_mapping.h"

namespace crm::contacts {

// The custom fields of contacts an import checks its rows against, and the guard each batch
// queues first (the definitions are still those).
struct ImportCustomFields {
  std::shared_ptr<const fields::Snapshot> snapshot;
  fields::Normalizers normalizers;
  std::function<void(db::Transaction&)> guard;
};

class ContactImporter final {
 public:
  ContactImporter(ContactsStore& store, const auth::Principal& caller, std::string phone_region,
                  const v1::ImportOptions& options, ImportCustomFields custom_fields);

  // Reads a chunk; full batches are written as they fill.
  absl::Status Feed(absl::string_view chunk);
  // Writes the last batch and returns the report.
  absl::StatusOr<v1::ImportContactsResponse> Finish();

  static constexpr int kBatchRows = 500;
  // Every row gets a line in the report, so the report's size bounds the file.
  static constexpr int64_t kMaxRows = 250000;

 private:
  struct Planned {
    int64_t line;
    v1::ImportRowResult::Outcome outcome;
    std::string contact;  // resource name
    std::string error;
  };
  using Rows = std::vector<std::pair<int64_t, v1::Contact>>;  // line and normalised contact
  absl::Status TakeRows(std::vector<CsvRow> rows);
  // Once per file: every mapped custom field exists, is live and can be imported.
  absl::Status CheckMappedCustomFields() const;
  // The row's custom field cells as checked values, defaults filled; the error names the key.
  absl::Status TypeCustomFields(const std::map<std::string, std::string>& cells,
                                v1::Contact& contact) const;
  // Waits for the batch being written, then starts writing the pending rows in the background,
  // so the next rows are read and normalised while PostgreSQL writes these.
  absl::Status WriteBatch();
  // Waits for the batch being written, if any, and records its rows in the report.
  absl::Status AwaitWrite();
  // Plans and writes `rows`, planning again when a concurrent import took one of their keys.
  absl::StatusOr<std::vector<Planned>> WriteRows(const Rows& rows) const;
  // Plans and writes `rows` in one transaction; fails as a whole (nothing written) on conflict.
  absl::StatusOr<std::vector<Planned>> TryBatch(const Rows& rows) const;

  ContactsStore& store_;
  const auth::Principal caller_;
  const std::string phone_region_;
  const v1::ImportOptions options_;
  const ImportCustomFields custom_fields_;
  CsvReader reader_;
  std::optional<std::vector<std::string>> header_;
  ImportMapping mapping_;
  Rows pending_;  // rows waiting for the next batch
  v1::ImportContactsResponse report_;
  int64_t rows_seen_ = 0;
  // The batch being written (at most one: each batch is planned against everything written before
  // it, so rows repeating an earlier batch merge). Declared last, so it is awaited first when an
  // abandoned import is destroyed.
  std::future<absl::StatusOr<std::vector<Planned>>> writing_;
};

}  // namespace crm::contacts

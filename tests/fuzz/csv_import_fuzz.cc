// CSV import files: the streaming reader gives the same rows however the file is cut into chunks,
// and every row maps to a contact or to a per-row error, never a crash.
#include <cstdint>
#include <string>

#include "services/contacts/csv_reader.h"
#include "services/contacts/import_mapping.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

struct Parsed {
  absl::Status status;
  std::vector<crm::contacts::CsvRow> rows;
};

// Small limits so the fuzzer reaches them.
Parsed Parse(std::string_view file, size_t chunk) {
  crm::contacts::CsvReader reader(crm::contacts::CsvLimits{256, 12, 4096});
  Parsed parsed;
  for (size_t at = 0; at < file.size() && parsed.status.ok(); at += chunk) {
    parsed.status = reader.Feed(crm::fuzz::Absl(file.substr(at, chunk)), &parsed.rows);
  }
  if (parsed.status.ok()) parsed.status = reader.Finish(&parsed.rows);
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size; the rest is the file.
  const size_t chunk = 1 + data[0] % 16;
  const std::string_view file = crm::fuzz::AsView(data + 1, size - 1);
  const Parsed whole = Parse(file, file.size() + 1);
  const Parsed pieces = Parse(file, chunk);
  CRM_FUZZ_CHECK(whole.status.code() == pieces.status.code());
  if (!whole.status.ok()) return 0;
  CRM_FUZZ_CHECK(whole.rows.size() == pieces.rows.size());
  for (size_t i = 0; i < whole.rows.size(); ++i) {
    CRM_FUZZ_CHECK(whole.rows[i].fields == pieces.rows[i].fields);
    CRM_FUZZ_CHECK(whole.rows[i].number == pieces.rows[i].number);
    CRM_FUZZ_CHECK(whole.rows[i].error == pieces.rows[i].error);
  }
  if (whole.rows.empty() || !whole.rows[0].error.empty()) return 0;
  const std::vector<std::string>& header = whole.rows[0].fields;
  auto mapping = crm::contacts::MapHeader(header, {});
  if (!mapping.ok()) return 0;
  for (size_t i = 1; i < whole.rows.size(); ++i) {
    if (!whole.rows[i].error.empty()) continue;
    (void)crm::contacts::MapRow(*mapping, header, whole.rows[i].fields);
  }
  return 0;
}

// Writes CSV rows (RFC 4180, every field quoted, via libcsv) for segment exports.
#pragma once

#include <string>
#include <vector>

namespace crm::contacts {

// Appends one CSV line to `out`. Text fields starting with = + - @ (spreadsheet formulas) get a
// leading apostrophe so an export opened in a spreadsheet cannot run code (OWASP CSV injection);
// pass `raw` true for fields that are never formulas (phones start with '+').
struct CsvCell {
  std::string value;
  bool raw = false;
};
void AppendCsvRow(const std::vector<CsvCell>& cells, std::string& out);

}  // namespace crm::contacts

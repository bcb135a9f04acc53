#include "services/contacts/csv_writer.h"

#include <csv.h>

#include "common/base/spreadsheet.h"

namespace crm::contacts {

void AppendCsvRow(const std::vector<CsvCell>& cells, std::string& out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(',');
    const std::string value = cells[i].raw ? cells[i].value : DefuseFormula(cells[i].value);
    // Worst case every character is a quote (doubled) plus the two enclosing quotes.
    std::string quoted(value.size() * 2 + 2, '\0');
    const size_t written = csv_write(quoted.data(), quoted.size(), value.data(), value.size());
    quoted.resize(written);
    out += quoted;
  }
  out += "\r\n";
}

}  // namespace crm::contacts

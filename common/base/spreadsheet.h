// Text written into a CSV that people open in a spreadsheet: a cell that starts like a formula
// (=, +, -, @, or a TAB or CR before one, which spreadsheets skip) would be run by Excel, Calc
// or Sheets. Such cells get a leading apostrophe, the convention that makes them plain text.
#pragma once

#include <string>
#include <string_view>

namespace crm {

inline bool StartsLikeFormula(std::string_view cell) {
  if (cell.empty()) return false;
  switch (cell.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

// `cell`, defused if it starts like a formula.
inline std::string DefuseFormula(std::string cell) {
  if (StartsLikeFormula(cell)) cell.insert(cell.begin(), '\'');
  return cell;
}

}  // namespace crm

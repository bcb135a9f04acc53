// Aligned plain-text tables for terminal output; bold headers only when stdout is a terminal.
#pragma once

#include <string>
#include <vector>

namespace crm::ctl {

class Table final {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Columns are padded to the widest cell, counted in UTF-8 code points (Armenian names align).
  std::string Render(bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace crm::ctl

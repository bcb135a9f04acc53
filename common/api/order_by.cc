#include "common/api/order_by.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/errors.h"

namespace crm::api {

absl::StatusOr<std::string> OrderBySql(absl::string_view order_by,
                                       const std::map<std::string, std::string>& columns,
                                       absl::string_view tiebreak) {
  std::vector<std::string> terms;
  for (absl::string_view part : absl::StrSplit(order_by, ',', absl::SkipWhitespace())) {
    std::vector<std::string> words = absl::StrSplit(part, ' ', absl::SkipEmpty());
    if (words.empty() || words.size() > 2 ||
        (words.size() == 2 && words[1] != "desc" && words[1] != "asc")) {
      return InvalidField("order_by", "write fields as 'name' or 'name desc', comma-separated");
    }
    auto column = columns.find(words[0]);
    if (column == columns.end()) {
      return InvalidField("order_by",
                          absl::StrCat("cannot order by '", EscapedEcho(words[0], 40), "'"));
    }
    terms.push_back(absl::StrCat(column->second, words.size() == 2 && words[1] == "desc"
                                                     ? " DESC NULLS LAST"
                                                     : " ASC NULLS LAST"));
  }
  terms.push_back(std::string(tiebreak));
  return absl::StrJoin(terms, ", ");
}

}  // namespace crm::api

#include "services/contacts/duplicate_scoring.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/text/normalize.h"

namespace crm::contacts {
namespace {

// Case-folded "given family", so "ANNA petrosyan" and "Anna Petrosyan" are the same name.
std::string FoldedName(const v1::Contact& c) {
  return text::FoldCase(absl::StrCat(c.given_name(), " ", c.family_name()));
}

bool SharesAny(const google::protobuf::RepeatedPtrField<std::string>& a,
               const google::protobuf::RepeatedPtrField<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) {
    return std::find(b.begin(), b.end(), x) != b.end();
  });
}

}  // namespace

DuplicateScore ScoreDuplicate(const v1::Contact& contact, const v1::Contact& candidate,
                              double name_similarity) {
  DuplicateScore result;
  const bool same_name =
      !contact.given_name().empty() && FoldedName(contact) == FoldedName(candidate);
  const bool same_company = !contact.company().empty() && contact.company() == candidate.company();
  const bool different_email = !contact.emails().empty() && !candidate.emails().empty() &&
                               !SharesAny(contact.emails(), candidate.emails());
  if (same_name && same_company) {
    result.score = 0.95;
    result.reasons.push_back("same name at the same company");
  } else if (same_name && different_email) {
    result.score = 0.75;
    result.reasons.push_back("same name with a different email");
  } else if (same_name) {
    result.score = 0.7;
    result.reasons.push_back("same name");
  } else if (same_company && name_similarity >= 0.4) {
    result.score = 0.5 + 0.4 * name_similarity;
    result.reasons.push_back("similar name at the same company");
  } else if (name_similarity >= 0.4) {
    result.score = 0.6 * name_similarity;
    result.reasons.push_back("similar name");
  }
  if (result.score > 0 && !contact.job_title().empty() &&
      contact.job_title() == candidate.job_title()) {
    result.score = std::min(1.0, result.score + 0.03);
    result.reasons.push_back("same job title");
  }
  return result;
}

}  // namespace crm::contacts

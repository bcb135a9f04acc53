// Scores how likely two contacts are the same person when the unique keys (email, phone) did not
// catch it. Pure; unit-tested.
#pragma once

#include <string>
#include <vector>

#include "crm/contacts/v1/contact.pb.h"

namespace crm::contacts {

struct DuplicateScore {
  double score = 0;  // 0..1
  std::vector<std::string> reasons;
};

// `name_similarity` is the trigram similarity of the two full names (0..1) from the database.
DuplicateScore ScoreDuplicate(const v1::Contact& contact, const v1::Contact& candidate,
                              double name_similarity);

}  // namespace crm::contacts

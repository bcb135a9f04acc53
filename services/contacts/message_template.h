// Personalised messages: "Hello {{given_name}}, ..." rendered for each contact of a segment.
// Compiled once (unknown fields are an error naming the position), rendered per contact. Pure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/contacts/v1/contact.pb.h"

namespace crm::contacts {

class MessageTemplate final {
 public:
  // Fields: given_name (or first_name), family_name (last_name), full_name, email, phone,
  // job_title, company_name, owner, campaign, attributes.<key>. `{{ name }}` may have spaces
  // inside the braces. INVALID_ARGUMENT (field "template") for unknown fields, unclosed braces,
  // templates over 10,000 characters.
  static absl::StatusOr<MessageTemplate> Compile(absl::string_view text);

  // Missing values render as "".
  std::string Render(const v1::Contact& contact, absl::string_view company_name) const;

 private:
  struct Part {
    bool is_field = false;
    std::string text;  // literal text, or the canonical field name
  };
  std::vector<Part> parts_;
};

}  // namespace crm::contacts

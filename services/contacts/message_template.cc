#include "services/contacts/message_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"

namespace crm::contacts {
namespace {

constexpr size_t kMaxTemplateChars = 10000;

// Canonical name of a template field, or "" when unknown.
std::string CanonicalField(absl::string_view name) {
  if (name == "given_name" || name == "first_name") return "given_name";
  if (name == "family_name" || name == "last_name") return "family_name";
  for (absl::string_view known :
       {"full_name", "email", "phone", "job_title", "company_name", "owner", "campaign"}) {
    if (name == known) return std::string(known);
  }
  if (absl::StartsWith(name, "attributes.") && name.size() > 11) return std::string(name);
  return "";
}

}  // namespace

absl::StatusOr<MessageTemplate> MessageTemplate::Compile(absl::string_view text) {
  if (text.empty()) return api::InvalidField("template", "required");
  if (text.size() > kMaxTemplateChars) {
    return api::InvalidField("template", absl::StrCat("at most ", kMaxTemplateChars, " bytes"));
  }
  MessageTemplate compiled;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find("{{", i);
    if (open == absl::string_view::npos) {
      compiled.parts_.push_back({false, std::string(text.substr(i))});
      break;
    }
    if (open > i) compiled.parts_.push_back({false, std::string(text.substr(i, open - i))});
    const size_t close = text.find("}}", open + 2);
    if (close == absl::string_view::npos) {
      return api::InvalidField("template",
                               absl::StrCat("at position ", open, ": '{{' is never closed"));
    }
    const absl::string_view name =
        absl::StripAsciiWhitespace(text.substr(open + 2, close - open - 2));
    const std::string field = CanonicalField(name);
    if (field.empty()) {
      return api::InvalidField(
          "template",
          absl::StrCat("at position ", open, ": unknown field '", name,
                       "'; use given_name, family_name, full_name, email, phone, job_title, "
                       "company_name, owner, campaign or attributes.<key>"));
    }
    compiled.parts_.push_back({true, field});
    i = close + 2;
  }
  return compiled;
}

std::string MessageTemplate::Render(const v1::Contact& contact,
                                    absl::string_view company_name) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.is_field) {
      out += part.text;
      continue;
    }
    const std::string& f = part.text;
    if (f == "given_name") {
      out += contact.given_name();
    } else if (f == "family_name") {
      out += contact.family_name();
    } else if (f == "full_name") {
      out += std::string(absl::StripAsciiWhitespace(
          absl::StrCat(contact.given_name(), " ", contact.family_name())));
    } else if (f == "email") {
      if (!contact.emails().empty()) out += contact.emails(0);
    } else if (f == "phone") {
      if (!contact.phones().empty()) out += contact.phones(0);
    } else if (f == "job_title") {
      out += contact.job_title();
    } else if (f == "company_name") {
      out.append(company_name.data(), company_name.size());
    } else if (f == "owner") {
      out += contact.owner();
    } else if (f == "campaign") {
      out += contact.campaign();
    } else {
      auto it = contact.attributes().find(f.substr(11));
      if (it != contact.attributes().end()) out += it->second;
    }
  }
  return out;
}

}  // namespace crm::contacts

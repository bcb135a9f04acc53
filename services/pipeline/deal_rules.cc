#include "services/pipeline/deal_rules.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/api/errors.h"
#include "common/api/resource_name.h"
#include "common/ids/uuid.h"

namespace crm::pipeline {
absl::Status NormalizeDeal(v1::Deal& deal, const std::string& default_currency) {
  deal.set_display_name(std::string(absl::StripAsciiWhitespace(deal.display_name())));
  if (deal.display_name().empty() || deal.display_name().size() > 200) {
    return api::InvalidField("deal.display_name", "required, up to 200 characters");
  }
  if (!deal.contact().empty() && !api::IsResourceName(deal.contact(), "contacts/")) {
    return api::InvalidField("deal.contact", "must look like contacts/{uuid}");
  }
  if (!deal.company().empty() && !api::IsResourceName(deal.company(), "companies/")) {
    return api::InvalidField("deal.company", "must look like companies/{uuid}");
  }
  if (deal.owner().size() > 128) return api::InvalidField("deal.owner", "up to 128 characters");
  if (deal.amount().currency_code().empty()) {
    deal.mutable_amount()->set_currency_code(default_currency);
  }
  const std::string& currency = deal.amount().currency_code();
  if (currency.size() != 3 ||
      !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return api::InvalidField("deal.amount.currency_code", "an ISO 4217 code such as USD or AMD");
  }
  if (deal.amount().amount_minor() < 0) {
    return api::InvalidField("deal.amount.amount_minor", "must not be negative");
  }
  if (!deal.expected_close_date().empty()) {
    absl::CivilDay day;
    if (deal.expected_close_date().size() != 10 ||
        !absl::ParseCivilTime(deal.expected_close_date(), &day) || day.year() < 1900 ||
        day.year() > 9999) {
      return api::InvalidField("deal.expected_close_date", "a date written YYYY-MM-DD");
    }
  }
  if (deal.probability_percent() < 0 || deal.probability_percent() > 100) {
    return api::InvalidField("deal.probability_percent", "must be 0..100");
  }
  if (deal.next_step().size() > 500) {
    return api::InvalidField("deal.next_step", "up to 500 characters");
  }
  if (deal.lead_source().size() > 64) {
    return api::InvalidField("deal.lead_source", "up to 64 characters");
  }
  return absl::OkStatus();
}

absl::Status ApplyDealMask(const v1::Deal& patch, const google::protobuf::FieldMask& mask,
                           v1::Deal& target) {
  static const auto* writable = new std::set<std::string>{
      "display_name",        "contact",   "company",    "owner", "amount", "expected_close_date",
      "probability_percent", "next_step", "lead_source"};
  std::vector<std::string> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty()) {
    if (!patch.display_name().empty()) paths.push_back("display_name");
    if (!patch.contact().empty()) paths.push_back("contact");
    if (!patch.company().empty()) paths.push_back("company");
    if (!patch.owner().empty()) paths.push_back("owner");
    if (patch.has_amount()) paths.push_back("amount");
    if (!patch.expected_close_date().empty()) paths.push_back("expected_close_date");
    if (patch.probability_overridden() || patch.probability_percent() != 0) {
      paths.push_back("probability_percent");
    }
    if (!patch.next_step().empty()) paths.push_back("next_step");
    if (!patch.lead_source().empty()) paths.push_back("lead_source");
  }
  for (const std::string& path : paths) {
    if (writable->count(path) == 0) {
      return api::InvalidField("update_mask",
                               absl::StrCat("'", path, "' is not a writable field",
                                            path == "stage" ? "; use MoveDeal" : ""));
    }
  }
  for (const std::string& path : paths) {
    if (path == "display_name") target.set_display_name(patch.display_name());
    if (path == "contact") target.set_contact(patch.contact());
    if (path == "company") target.set_company(patch.company());
    if (path == "owner") target.set_owner(patch.owner());
    if (path == "amount") *target.mutable_amount() = patch.amount();
    if (path == "expected_close_date") target.set_expected_close_date(patch.expected_close_date());
    if (path == "probability_percent") {
      target.set_probability_percent(patch.probability_percent());
      target.set_probability_overridden(true);
    }
    if (path == "next_step") target.set_next_step(patch.next_step());
    if (path == "lead_source") target.set_lead_source(patch.lead_source());
  }
  return absl::OkStatus();
}

}  // namespace crm::pipeline

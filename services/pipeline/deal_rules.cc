#include "services/pipeline/deal_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/api/errors.h"
#include "common/api/field_mask.h"
#include "common/api/resource_name.h"
#include "common/base/status_macros.h"
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
  static const auto* writable = new std::set<std::string>{"display_name",
                                                          "contact",
                                                          "company",
                                                          "owner",
                                                          "amount",
                                                          "expected_close_date",
                                                          "probability_percent",
                                                          "next_step",
                                                          "lead_source",
                                                          "custom_fields"};
  ASSIGN_OR_RETURN(
      std::vector<std::string> applied,
      api::ApplyUpdateMask(patch, mask, *writable, target, {{"stage", "use MoveDeal"}}));
  // A probability set by hand stays, whatever the stage says, until it is set again.
  const bool explicit_zero = mask.paths().empty() && patch.probability_overridden();
  if (explicit_zero &&
      std::find(applied.begin(), applied.end(), "probability_percent") == applied.end()) {
    target.set_probability_percent(patch.probability_percent());
    applied.push_back("probability_percent");
  }
  if (std::find(applied.begin(), applied.end(), "probability_percent") != applied.end()) {
    target.set_probability_overridden(true);
  }
  return absl::OkStatus();
}

}  // namespace crm::pipeline

#include "services/tasks/event_followers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/db/sql_helpers.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "services/tasks/task_rules.h"

namespace crm::tasks {
namespace {

std::string IdOf(absl::string_view name, absl::string_view prefix) {
  absl::string_view id = name;
  return absl::ConsumePrefix(&id, prefix) ? std::string(id) : std::string();
}

// "Anna Petrosyan", else the first email, else the phone: what a person calls the contact.
std::string DisplayName(const crm::contacts::v1::Contact& c) {
  std::string name = c.given_name();
  if (!c.family_name().empty()) absl::StrAppend(&name, name.empty() ? "" : " ", c.family_name());
  if (name.empty() && c.emails_size() > 0) name = c.emails(0);
  if (name.empty() && c.phones_size() > 0) name = c.phones(0);
  return name;
}

void KeepContactName(TaskStore& store, db::Transaction& tx, const std::string& tenant,
                     const crm::contacts::v1::Contact& contact) {
  store.QueueContactName(tx, tenant, IdOf(contact.name(), "contacts/"), DisplayName(contact),
                         IdOf(contact.company(), "companies/"));
}

// At most `max_bytes` of `text`, cut at a character boundary.
std::string Utf8Prefix(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

events::EventRouter ContactsEvents(TaskStore& store) {
  namespace cv1 = crm::contacts::v1;
  using crm::common::v1::Event;
  events::EventRouter router;
  router.On<cv1::ContactCreated>(
      [&store](db::Transaction& tx, const Event& event, const cv1::ContactCreated& created) {
        KeepContactName(store, tx, event.tenant(), created.contact());
        return absl::OkStatus();
      });
  router.On<cv1::ContactUpdated>(
      [&store](db::Transaction& tx, const Event& event, const cv1::ContactUpdated& updated) {
        KeepContactName(store, tx, event.tenant(), updated.contact());
        return absl::OkStatus();
      });
  router.On<cv1::ContactsMerged>([&store](db::Transaction& tx, const Event& event,
                                          const cv1::ContactsMerged& merged) {
    if (absl::Status s = store.RepointContact(tx, event.tenant(), IdOf(merged.loser(), "contacts/"),
                                              IdOf(merged.winner(), "contacts/"));
        !s.ok()) {
      return s;
    }
    if (merged.has_contact()) KeepContactName(store, tx, event.tenant(), merged.contact());
    return absl::OkStatus();
  });
  router.On<cv1::CompanyCreated>(
      [&store](db::Transaction& tx, const Event& event, const cv1::CompanyCreated& created) {
        store.QueueCompanyName(tx, event.tenant(), IdOf(created.company().name(), "companies/"),
                               created.company().display_name());
        return absl::OkStatus();
      });
  router.On<cv1::CompanyUpdated>(
      [&store](db::Transaction& tx, const Event& event, const cv1::CompanyUpdated& updated) {
        store.QueueCompanyName(tx, event.tenant(), IdOf(updated.company().name(), "companies/"),
                               updated.company().display_name());
        return absl::OkStatus();
      });
  return router;
}

events::EventRouter PipelineEvents(TaskStore& store, RenewalTaskOptions options) {
  events::EventRouter router;
  router.On<crm::pipeline::v1::RenewalCreated>(
      [&store, options](db::Transaction& tx, const crm::common::v1::Event& event,
                        const crm::pipeline::v1::RenewalCreated& renewal) -> absl::Status {
        const auto& deal = renewal.renewal_deal();
        const auto& purchase = renewal.purchase();
        v1::Task task;
        task.set_title(Utf8Prefix(absl::StrCat("Follow up: ", deal.display_name()), 200));
        task.set_description(absl::StrCat("Contract ", purchase.contract_number(), " ends on ",
                                          purchase.end_date(), ". Talk to the customer about the ",
                                          "renewal before then."));
        task.set_assignee(deal.owner().empty() ? purchase.owner() : deal.owner());
        task.set_contact(deal.contact());
        task.set_company(deal.company());
        task.set_deal(deal.name());
        task.set_priority(v1::TASK_PRIORITY_HIGH);
        task.set_status(v1::TASK_STATUS_OPEN);
        task.set_time_zone("UTC");
        task.set_origin(absl::StrCat("renewal of contract ", purchase.contract_number()));
        // Due soon after the renewal appears, and never after the contract ends.
        absl::Time due = db::NowMicros() + options.follow_up_after;
        absl::CivilDay end;
        if (absl::ParseCivilTime(purchase.end_date(), &end)) {
          due = std::max(db::NowMicros(), std::min(due, absl::FromCivil(end, absl::UTCTimeZone())));
        }
        db::SetTime(task.mutable_due_time(), due);
        db::SetTime(task.mutable_reminder_time(), due);
        if (absl::Status valid = NormalizeTask(task); !valid.ok()) return valid;  // dead letter
        return store.CreateTaskFromEvent(tx, event.tenant(), task, purchase.name()).status();
      });
  return router;
}

}  // namespace crm::tasks

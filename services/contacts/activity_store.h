// SQL of the activity timeline: logging an activity (and stamping the contact's
// last_contacted_time/by in the same transaction) and reading timelines newest first.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/events/outbox.h"
#include "crm/contacts/v1/activity.pb.h"
#include "services/contacts/activity_rules.h"
#include "services/contacts/contacts_store.h"

namespace crm::contacts {

class ActivityStore final {
 public:
  ActivityStore(db::Pool& pool, events::Outbox& outbox) : pool_(pool), outbox_(outbox) {}

  // Logs a normalised activity. NOT_FOUND when its contact does not exist in the tenant (or was
  // deleted). A retry with the same request id returns the first activity.
  absl::StatusOr<v1::Activity> Log(const std::string& tenant, const v1::Activity& activity,
                                   const std::string& author, const std::string& request_id,
                                   absl::Time deadline);

  // The timeline of a contact (`by_company` false) or company, newest first.
  absl::StatusOr<PageResult<v1::Activity>> List(const std::string& tenant, bool by_company,
                                                const std::string& parent_id,
                                                const TimelineCursor& after, int page_size,
                                                absl::Time deadline);

 private:
  db::Pool& pool_;
  events::Outbox& outbox_;
};

}  // namespace crm::contacts

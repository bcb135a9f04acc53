#include "services/pipeline/contacts_follower.h"

#include "absl/strings/str_cat.h"
#include "crm/contacts/v1/contacts_events.pb.h"

namespace crm::pipeline {

events::EventRouter ContactsEvents(PipelineStore& store) {
  namespace cv1 = crm::contacts::v1;
  using crm::common::v1::Event;
  events::EventRouter router;
  router.On<cv1::ContactsMerged>(
      [&store](db::Transaction& tx, const Event& event, const cv1::ContactsMerged& merged) {
        return store.RepointContact(tx, event.tenant(), merged.loser(), merged.winner());
      });
  router.On<cv1::ContactDeleted>(
      [&store](db::Transaction& tx, const Event& event, const cv1::ContactDeleted& deleted) {
        return store.FlagMissingContact(tx, event.tenant(), deleted.name());
      });
  router.On<cv1::TenantSettingsChanged>(
      [](db::Transaction& tx, const Event& event, const cv1::TenantSettingsChanged& changed) {
        tx.Queue(
            "INSERT INTO pipeline.tenant_settings (tenant_id, renewal_lead_days, "
            "default_currency, time_zone) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO "
            "UPDATE SET renewal_lead_days = EXCLUDED.renewal_lead_days, default_currency = "
            "EXCLUDED.default_currency, time_zone = EXCLUDED.time_zone",
            {event.tenant(), absl::StrCat(changed.settings().renewal_lead_days()),
             changed.settings().default_currency(), changed.settings().time_zone()});
        return absl::OkStatus();
      });
  return router;
}

}  // namespace crm::pipeline

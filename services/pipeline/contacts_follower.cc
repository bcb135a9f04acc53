#include "services/pipeline/contacts_follower.h"

#include "absl/strings/str_cat.h"
#include "crm/contacts/v1/contacts_events.pb.h"

namespace crm::pipeline {

std::vector<std::string> ContactsEventTypes() {
  return {"crm.contacts.v1.ContactsMerged", "crm.contacts.v1.ContactDeleted",
          "crm.contacts.v1.TenantSettingsChanged"};
}

events::EventHandler ContactsEventHandler(PipelineStore& store) {
  return [&store](db::Transaction& tx, const crm::common::v1::Event& event) -> absl::Status {
    if (event.event_type() == "crm.contacts.v1.ContactsMerged") {
      crm::contacts::v1::ContactsMerged merged;
      if (!event.payload().UnpackTo(&merged)) return absl::InvalidArgumentError("bad payload");
      return store.RepointContact(tx, event.tenant(), merged.loser(), merged.winner());
    }
    if (event.event_type() == "crm.contacts.v1.ContactDeleted") {
      crm::contacts::v1::ContactDeleted deleted;
      if (!event.payload().UnpackTo(&deleted)) return absl::InvalidArgumentError("bad payload");
      return store.FlagMissingContact(tx, event.tenant(), deleted.name());
    }
    if (event.event_type() == "crm.contacts.v1.TenantSettingsChanged") {
      crm::contacts::v1::TenantSettingsChanged changed;
      if (!event.payload().UnpackTo(&changed)) return absl::InvalidArgumentError("bad payload");
      tx.Queue(
          "INSERT INTO pipeline.tenant_settings (tenant_id, renewal_lead_days, "
          "default_currency, time_zone) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO "
          "UPDATE SET renewal_lead_days = EXCLUDED.renewal_lead_days, default_currency = "
          "EXCLUDED.default_currency, time_zone = EXCLUDED.time_zone",
          {event.tenant(), absl::StrCat(changed.settings().renewal_lead_days()),
           changed.settings().default_currency(), changed.settings().time_zone()});
    }
    return absl::OkStatus();  // other events are not ours
  };
}

}  // namespace crm::pipeline

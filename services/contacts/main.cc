// The contacts service: companies, contacts, dedup, timeline, search, segments, import, and
// their event stream. Flags only; the wiring is contacts_wiring.h.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/contacts/contacts_wiring.h"

extern const std::vector<crm::EmbeddedFile>& ContactsMigrations();

ABSL_FLAG(std::string, default_phone_region, "US",
          "Phone region for tenants that have not set one (ISO 3166-1 alpha-2)");
ABSL_FLAG(std::string, default_time_zone, "UTC", "Time zone for tenants that have not set one");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for tenants that have not set one");

namespace {

crm::contacts::ContactsServiceOptions OptionsFromFlags() {
  crm::contacts::ContactsServiceOptions options;
  auto& defaults = options.default_settings;
  defaults.set_default_phone_region(absl::GetFlag(FLAGS_default_phone_region));
  defaults.set_time_zone(absl::GetFlag(FLAGS_default_time_zone));
  defaults.set_default_currency(absl::GetFlag(FLAGS_default_currency));
  defaults.set_fiscal_year_start_month(1);
  defaults.set_renewal_lead_days(30);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "contacts service. Flags also read CRM_<FLAG>.");
  crm::log::Init("contacts", crm::config::LogLevelFromFlags());
  return crm::server::RunService("contacts", ContactsMigrations(),
                                 crm::contacts::WireContacts(OptionsFromFlags()));
}

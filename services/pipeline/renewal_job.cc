#include "services/pipeline/renewal_job.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/log/log.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "services/pipeline/pipeline_rules.h"

namespace crm::pipeline {

RenewalJob::RenewalJob(db::Pool& pool, PipelineStore& deals, ProductStore& products,
                       prometheus::Registry* registry, RenewalJobOptions options)
    : pool_(pool), deals_(deals), products_(products), options_(options) {
  if (registry != nullptr) {
    created_ = &prometheus::BuildCounter()
                    .Name("crm_renewals_created_total")
                    .Help("Renewal deals created for subscriptions nearing their end")
                    .Register(*registry)
                    .Add({});
  }
}

RenewalJob::~RenewalJob() { Stop(); }

void RenewalJob::Start() {
  thread_ = std::thread([this] {
    do {
      if (auto created = RunOnce(); !created.ok()) {
        spdlog::warn("renewal job failed: {}", created.status().ToString());
      } else if (*created > 0) {
        spdlog::info("renewals created={}", *created);
      }
    } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
  });
}

void RenewalJob::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> RenewalJob::RunOnce() {
  int created = 0;
  for (;;) {
    ASSIGN_OR_RETURN(
        std::vector<DuePurchase> due,
        products_.DuePurchases(options_.default_lead_days, 200, absl::Now() + absl::Seconds(30)));
    int this_batch = 0;
    for (const DuePurchase& purchase : due) {
      ASSIGN_OR_RETURN(bool renewed, Renew(purchase));
      if (renewed) ++this_batch;
    }
    created += this_batch;
    // Stop when nothing is left, or when what is left is another replica's to do.
    if (due.size() < 200 || this_batch == 0) return created;
  }
}

absl::StatusOr<bool> RenewalJob::Renew(const DuePurchase& due) {
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::Begin(pool_, due.tenant, absl::Now() + absl::Seconds(30)));
  ASSIGN_OR_RETURN(std::optional<v1::Purchase> purchase,
                   products_.LockForRenewal(tx, due.tenant, due.id));
  if (!purchase.has_value()) return false;  // another replica has it, or it is done
  v1::Deal renewal;
  renewal.set_display_name(absl::StrCat("Renewal of contract ", purchase->contract_number()));
  renewal.set_contact(purchase->contact());
  renewal.set_company(purchase->company());
  renewal.set_owner(purchase->owner());
  renewal.mutable_amount()->set_currency_code(purchase->unit_price().currency_code());
  renewal.mutable_amount()->set_amount_minor(purchase->unit_price().amount_minor() *
                                             purchase->quantity());
  renewal.set_expected_close_date(purchase->end_date());
  renewal.set_lead_source("renewal");
  ASSIGN_OR_RETURN(v1::Deal deal,
                   deals_.CreateDealIn(tx, due.tenant, renewal, "", "", "renewal-job", ""));
  products_.QueueSetRenewal(tx, due.tenant, due.id, deal.name().substr(kDealPrefix.size()));
  purchase->set_renewal_deal(deal.name());
  v1::RenewalCreated event;
  *event.mutable_purchase() = *purchase;
  *event.mutable_renewal_deal() = deal;
  deals_.AppendEvent(tx, due.tenant, deal.name(), event);
  RETURN_IF_ERROR(tx.Commit());
  if (created_ != nullptr) created_->Increment();
  return true;
}

}  // namespace crm::pipeline

// The renewal job: finds subscriptions ending within their tenant's renewal lead time and
// creates one renewal deal per subscription (same customer and owner, expected to close on the
// end date), with a RenewalCreated event the tasks service turns into a follow-up task.
//
// Exactly once with any number of replicas and across restarts: each purchase is claimed with
// FOR UPDATE SKIP LOCKED and its renewal_deal_id is set in the transaction that creates the deal.
#pragma once

#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/pipeline/pipeline_store.h"
#include "services/pipeline/product_store.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace crm::pipeline {

struct RenewalJobOptions {
  absl::Duration interval = absl::Minutes(1);
  // For tenants whose settings have not arrived from the contacts service.
  int default_lead_days = 30;
};

class RenewalJob final {
 public:
  RenewalJob(db::Pool& pool, PipelineStore& deals, ProductStore& products,
             prometheus::Registry* registry, RenewalJobOptions options);
  ~RenewalJob();

  void Start();
  void Stop();
  // One pass; returns the number of renewals this replica created.
  absl::StatusOr<int> RunOnce();

 private:
  absl::StatusOr<bool> Renew(const DuePurchase& due);

  db::Pool& pool_;
  PipelineStore& deals_;
  ProductStore& products_;
  const RenewalJobOptions options_;
  std::thread thread_;
  absl::Notification stop_;
  prometheus::Counter* created_ = nullptr;
};

}  // namespace crm::pipeline

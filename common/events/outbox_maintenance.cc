#include "common/events/outbox_maintenance.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/transaction.h"
#include "common/log/log.h"

namespace crm::events {

OutboxMaintenance::OutboxMaintenance(db::Pool& pool, std::string schema,
                                     prometheus::Registry* registry,
                                     OutboxMaintenanceOptions options)
    : pool_(pool), schema_(std::move(schema)), options_(options) {
  if (registry != nullptr) {
    backlog_ = &prometheus::BuildGauge()
                    .Name("crm_outbox_backlog")
                    .Help(
                        "Committed events not yet deliverable: held back behind a transaction "
                        "still in flight")
                    .Register(*registry)
                    .Add({});
    retained_ = &prometheus::BuildGauge()
                     .Name("crm_outbox_retained_events")
                     .Help("Events kept in the outbox for subscribers")
                     .Register(*registry)
                     .Add({});
  }
}

OutboxMaintenance::~OutboxMaintenance() { Stop(); }

void OutboxMaintenance::Start() {
  thread_ = std::thread([this] {
    do {
      if (auto pruned = RunOnce(); !pruned.ok()) {
        spdlog::warn("outbox maintenance failed: {}", pruned.status().ToString());
      } else if (*pruned > 0) {
        spdlog::info("outbox pruned events={}", *pruned);
      }
    } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
  });
}

void OutboxMaintenance::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int64_t> OutboxMaintenance::RunOnce() {
  const std::string horizon = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)";
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(60)));
  const int stats = tx.Queue(absl::StrCat("SELECT count(*) FILTER (WHERE position >= ", horizon,
                                          "), count(*) FROM ", schema_, ".outbox"));
  ASSIGN_OR_RETURN(
      db::Result locked,
      tx.Exec(absl::StrCat("SELECT pg_try_advisory_xact_lock(hashtext('crm.outbox.retention.",
                           schema_, "'))")));
  int pruned_index = -1;
  if (locked.Bool(0, 0)) {
    // Prune a prefix of the stream: up to the newest expired event below the horizon, at most
    // 10,000 events a pass, so this transaction (which holds the horizon back) stays short.
    pruned_index = tx.Queue(
        absl::StrCat("WITH cut AS (SELECT max(position) AS p FROM (SELECT position FROM ", schema_,
                     ".outbox "
                     "WHERE occurred_at < now() - make_interval(secs => $1::double precision) AND "
                     "position < ",
                     horizon, " ORDER BY position LIMIT 10000) expired), gone AS (DELETE FROM ",
                     schema_,
                     ".outbox WHERE position <= (SELECT p FROM "
                     "cut) RETURNING position), mark AS (UPDATE ",
                     schema_,
                     ".outbox_retention SET "
                     "pruned_through = GREATEST(pruned_through, (SELECT p FROM cut)) WHERE (SELECT "
                     "p FROM cut) "
                     "IS NOT NULL) SELECT count(*) FROM gone"),
        {absl::StrCat(absl::ToDoubleSeconds(options_.retention))});
  }
  RETURN_IF_ERROR(tx.Commit());
  const db::Result& counts = tx.ResultOf(stats);
  if (backlog_ != nullptr && counts.rows() == 1) {
    backlog_->Set(static_cast<double>(counts.Int(0, 0)));
    retained_->Set(static_cast<double>(counts.Int(0, 1)));
  }
  return pruned_index < 0 ? 0 : tx.ResultOf(pruned_index).Int(0, 0);
}

}  // namespace crm::events

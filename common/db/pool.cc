#include "common/db/pool.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace crm::db {

PooledConnection::~PooledConnection() { Release(); }

void PooledConnection::Release() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), tenant_);
  conn_.reset();
}

int PoolOptions::MaxPerTenant() const { return std::max(1, static_cast<int>(size * tenant_share)); }

Pool::Pool(PoolOptions options, prometheus::Registry* registry) : options_(std::move(options)) {
  if (registry == nullptr) return;
  const prometheus::Labels labels{{"pool", options_.name}};
  size_gauge_ = &prometheus::BuildGauge()
                     .Name("crm_db_pool_connections")
                     .Help("Open connections in the pool")
                     .Register(*registry)
                     .Add(labels);
  in_use_gauge_ = &prometheus::BuildGauge()
                       .Name("crm_db_pool_in_use_connections")
                       .Help("Connections checked out of the pool")
                       .Register(*registry)
                       .Add(labels);
  waiting_gauge_ = &prometheus::BuildGauge()
                        .Name("crm_db_pool_waiting_requests")
                        .Help("Callers waiting for a connection")
                        .Register(*registry)
                        .Add(labels);
  max_gauge_ = &prometheus::BuildGauge()
                    .Name("crm_db_pool_max_connections")
                    .Help("Configured pool size")
                    .Register(*registry)
                    .Add(labels);
  max_gauge_->Set(options_.size);
  acquire_seconds_ =
      &prometheus::BuildHistogram()
           .Name("crm_db_pool_acquire_seconds")
           .Help("Time to check a connection out of the pool")
           .Register(*registry)
           .Add(labels, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                                0.05, 0.1, 0.5, 1, 2, 5});
  acquire_timeouts_ = &prometheus::BuildCounter()
                           .Name("crm_db_pool_acquire_timeouts_total")
                           .Help("Acquires that gave up waiting for a connection")
                           .Register(*registry)
                           .Add(labels);
  statement_seconds_ = &prometheus::BuildHistogram()
                            .Name("crm_db_statement_duration_seconds")
                            .Help("Statements run and waited for, by verb and first table")
                            .Register(*registry);
  commit_seconds_ =
      &prometheus::BuildHistogram()
           .Name("crm_db_commit_duration_seconds")
           .Help("Commits, including the statements pipelined before them")
           .Register(*registry)
           .Add(labels, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                0.025, 0.05, 0.1, 0.25, 1, 5});
  share_refusals_ = &prometheus::BuildCounter()
                         .Name("crm_db_pool_tenant_share_refusals_total")
                         .Help("Requests refused because their tenant held its share of the pool")
                         .Register(*registry)
                         .Add(labels);
  reconnects_ = &prometheus::BuildCounter()
                     .Name("crm_db_pool_connects_total")
                     .Help("Connections opened (initial and after failures)")
                     .Register(*registry)
                     .Add(labels);
}

Pool::~Pool() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

void Pool::UpdateGaugesLocked() {
  if (size_gauge_ == nullptr) return;
  size_gauge_->Set(open_);
  in_use_gauge_->Set(in_use_);
  waiting_gauge_->Set(waiting_);
}

absl::StatusOr<PooledConnection> Pool::Acquire(absl::Time deadline, const std::string& tenant) {
  const absl::Time start = absl::Now();
  // Connecting may take up to connect_timeout, but gives up a little before the caller's own
  // deadline, so that the caller learns the database is unavailable rather than only that time ran
  // out.
  const absl::Time connect_deadline =
      std::min(deadline - absl::Milliseconds(50), start + options_.connect_timeout);
  deadline = std::min(deadline, start + options_.acquire_timeout);
  const int max_per_tenant = options_.MaxPerTenant();
  std::unique_ptr<Connection> conn;
  bool must_open = false;
  {
    absl::MutexLock lock(&mu_);
    TenantUse* use = tenant.empty() ? nullptr : &tenants_[tenant];
    if (use != nullptr && use->in_use >= max_per_tenant &&
        use->waiting >= options_.tenant_waiting) {
      if (share_refusals_) share_refusals_->Increment();
      if (use->in_use == 0 && use->waiting == 0) tenants_.erase(tenant);
      return absl::ResourceExhaustedError(absl::StrCat(
          "your organisation is using its share of the database (", max_per_tenant, " of ",
          options_.size, " connections) with more requests waiting; retry shortly"));
    }
    ++waiting_;
    if (use != nullptr) ++use->waiting;
    UpdateGaugesLocked();
    auto ready = [this, use, max_per_tenant]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (!idle_.empty() || open_ < options_.size) &&
             (use == nullptr || use->in_use < max_per_tenant);
    };
    const bool got = mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    --waiting_;
    if (use != nullptr) --use->waiting;
    if (!got) {
      const bool at_share = use != nullptr && use->in_use >= max_per_tenant;
      if (use != nullptr && use->in_use == 0 && use->waiting == 0) tenants_.erase(tenant);
      UpdateGaugesLocked();
      if (at_share) {
        if (share_refusals_) share_refusals_->Increment();
        return absl::ResourceExhaustedError(
            absl::StrCat("your organisation is using its share of the database (", max_per_tenant,
                         " of ", options_.size, " connections); retry shortly"));
      }
      if (acquire_timeouts_) acquire_timeouts_->Increment();
      return absl::UnavailableError(absl::StrCat("database pool '", options_.name,
                                                 "' exhausted: all ", options_.size,
                                                 " connections busy"));
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.front());
      idle_.pop_front();
    } else {
      ++open_;
      must_open = true;
    }
    ++in_use_;
    if (use != nullptr) ++use->in_use;
    UpdateGaugesLocked();
  }
  // A connection that died while idle is replaced here, so requests after a server restart
  // succeed as soon as the server is back.
  if (conn != nullptr && !conn->IsUsable()) {
    conn.reset();
    must_open = true;
  }
  if (must_open) {
    if (reconnects_) reconnects_->Increment();
    auto opened = Connection::Open(options_.conninfo, connect_deadline);
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      ReleaseTenantLocked(tenant);
      UpdateGaugesLocked();
      return opened.status();
    }
    conn = std::move(opened).value();
  }
  if (acquire_seconds_) acquire_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return PooledConnection(this, std::move(conn), tenant);
}

int Pool::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

void Pool::ReleaseTenantLocked(const std::string& tenant) {
  --in_use_;
  if (tenant.empty()) return;
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return;
  if (--it->second.in_use <= 0 && it->second.waiting == 0) tenants_.erase(it);
}

void Pool::Release(std::unique_ptr<Connection> conn, const std::string& tenant) {
  const bool keep = conn->IsUsable() && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE &&
                    PQpipelineStatus(conn->raw()) == PQ_PIPELINE_OFF;
  if (!keep) conn.reset();  // closed before locking: PQfinish may wait on the socket
  absl::MutexLock lock(&mu_);
  ReleaseTenantLocked(tenant);
  if (keep) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  UpdateGaugesLocked();
}

namespace {

// "select contacts.contacts": the statement's verb and its first schema-qualified table. Every
// statement names its tables with their schema, so the set of names is small and fixed.
std::string StatementName(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  const size_t verb_end = std::min(sql.find_first_of(" \n\t("), sql.size());
  std::string name = absl::AsciiStrToLower(sql.substr(0, verb_end));
  for (size_t i = verb_end; i + 1 < sql.size(); ++i) {
    if (sql[i] != '.' || i == 0 || !absl::ascii_isalpha(static_cast<unsigned char>(sql[i + 1]))) {
      continue;
    }
    size_t start = i;
    while (start > 0 && (absl::ascii_isalnum(static_cast<unsigned char>(sql[start - 1])) ||
                         sql[start - 1] == '_')) {
      --start;
    }
    size_t end = i + 1;
    while (end < sql.size() &&
           (absl::ascii_isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) {
      ++end;
    }
    if (start < i && absl::ascii_isalpha(static_cast<unsigned char>(sql[start]))) {
      absl::StrAppend(&name, " ", sql.substr(start, end - start));
      break;
    }
  }
  return name;
}

}  // namespace

void Pool::ObserveStatement(absl::string_view sql, absl::Duration took) {
  if (statement_seconds_ == nullptr) return;
  const std::string name = StatementName(sql);
  prometheus::Histogram* histogram = nullptr;
  {
    absl::MutexLock lock(&statements_mu_);
    auto it = statements_.find(name);
    if (it == statements_.end()) {
      it = statements_
               .emplace(name,
                        &statement_seconds_->Add({{"pool", options_.name}, {"statement", name}},
                                                 prometheus::Histogram::BucketBoundaries{
                                                     0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01, 0.025, 0.05, 0.1, 0.25, 1, 5}))
               .first;
    }
    histogram = it->second;
  }
  histogram->Observe(absl::ToDoubleSeconds(took));
}

void Pool::ObserveCommit(absl::Duration took) {
  if (commit_seconds_ != nullptr) commit_seconds_->Observe(absl::ToDoubleSeconds(took));
}

}  // namespace crm::db

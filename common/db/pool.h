// A bounded pool of PostgreSQL connections, shared fairly between tenants.
//
// At most `size` connections exist; Acquire waits up to the caller's deadline (capped by
// `acquire_timeout`) for one to come free and then fails with UNAVAILABLE, so a database that is
// slow or down turns into retryable errors instead of an unbounded queue of blocked threads.
// Broken connections (server restart) are dropped and reopened on demand.
//
// One tenant holds at most `tenant_share` of the connections at once, and only a few of its
// requests wait for more (RESOURCE_EXHAUSTED beyond): one tenant's expensive but legal work (a
// 64-term filter, a ten-year report, a big export) cannot take the pool, or the threads waiting
// on it, from the others. System work (no tenant: event streams, retention) is not counted.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/connection.h"

namespace prometheus {
class Registry;
class Gauge;
class Histogram;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace crm::db {

struct PoolOptions {
  std::string conninfo;
  int size = 8;
  absl::Duration acquire_timeout = absl::Seconds(2);
  absl::Duration connect_timeout = absl::Seconds(3);
  // Upper bound on any statement; a caller's tighter gRPC deadline wins.
  absl::Duration statement_timeout = absl::Seconds(30);
  // Label for the pool's metrics ("main", "listener").
  std::string name = "main";
  // The fraction of `size` one tenant may hold at once (at least one connection).
  double tenant_share = 0.5;
  // A tenant at its share may have this many more requests waiting; the rest are refused.
  int tenant_waiting = 4;

  int MaxPerTenant() const;
};

class Pool;

// A connection checked out of the pool; returned (or dropped if broken) on destruction.
class PooledConnection final {
 public:
  PooledConnection(Pool* pool, std::unique_ptr<Connection> conn, std::string tenant)
      : pool_(pool), conn_(std::move(conn)), tenant_(std::move(tenant)) {}
  PooledConnection(PooledConnection&&) = default;
  PooledConnection& operator=(PooledConnection&&) = default;
  ~PooledConnection();

  // Gives the connection back to the pool now (the destructor then does nothing).
  void Release();
  bool held() const { return conn_ != nullptr; }
  Pool* pool() const { return pool_; }

  Connection* operator->() { return conn_.get(); }
  Connection& operator*() { return *conn_; }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
  std::string tenant_;  // "" for system work
};

class Pool final {
 public:
  // Metrics go to `registry` when it is not null.
  Pool(PoolOptions options, prometheus::Registry* registry);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection for `tenant` ("" for system work). RESOURCE_EXHAUSTED when the tenant holds its
  // share and enough of its requests already wait; UNAVAILABLE when none came free in time.
  absl::StatusOr<PooledConnection> Acquire(absl::Time deadline, const std::string& tenant = "");

  const PoolOptions& options() const { return options_; }
  // Requests waiting for a connection now.
  int waiting() const;

  // Query latency metrics: a statement run and waited for (Exec), by a bounded name made of its
  // verb and first table ("select contacts.contacts"); and whole commits (pipelined statements).
  void ObserveStatement(absl::string_view sql, absl::Duration took);
  void ObserveCommit(absl::Duration took);

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Connection> conn, const std::string& tenant);

  const PoolOptions options_;
  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + checked out + being opened
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  struct TenantUse {
    int in_use = 0;
    int waiting = 0;
  };
  // Node-based: a waiter keeps a pointer to its tenant's entry while others are added.
  absl::node_hash_map<std::string, TenantUse> tenants_ ABSL_GUARDED_BY(mu_);

  prometheus::Gauge* size_gauge_ = nullptr;
  prometheus::Gauge* in_use_gauge_ = nullptr;
  prometheus::Gauge* waiting_gauge_ = nullptr;
  prometheus::Gauge* max_gauge_ = nullptr;
  prometheus::Histogram* acquire_seconds_ = nullptr;
  prometheus::Counter* acquire_timeouts_ = nullptr;
  prometheus::Counter* share_refusals_ = nullptr;
  prometheus::Counter* reconnects_ = nullptr;
  prometheus::Family<prometheus::Histogram>* statement_seconds_ = nullptr;
  prometheus::Histogram* commit_seconds_ = nullptr;
  absl::Mutex statements_mu_;
  absl::flat_hash_map<std::string, prometheus::Histogram*> statements_
      ABSL_GUARDED_BY(statements_mu_);
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One connection less in use, by `tenant`.
  void ReleaseTenantLocked(const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::db

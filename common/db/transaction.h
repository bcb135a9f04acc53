// A database transaction scoped to one tenant, pipelined to save round trips.
//
// Statements go out in libpq pipeline mode, each as a prepared statement of the connection (parsed
// and planned once per connection). The transaction is the extended protocol's implicit block:
// everything sent up to the sync point commits or rolls back together, so no BEGIN or COMMIT
// statement is needed. Begin() queues the tenant setting for row-level security (`app.tenant`,
// read by every table's policy) and a statement timeout derived from the caller's deadline.
// Queue() sends without waiting, Exec() waits for that statement's rows, Commit() sends the sync
// point and waits for everything: a create that queues its INSERTs and commits costs one network
// round trip. A transaction destroyed without Commit() rolls back.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/result.h"

namespace crm::db {

class Transaction final {
 public:
  // An empty tenant sees no row of any tenant-scoped table.
  static absl::StatusOr<Transaction> Begin(Pool& pool, absl::string_view tenant,
                                           absl::Time deadline);
  // For system work across tenants (the event stream, retention): sets `app.all_tenants`, which
  // only the policies of system tables (the outbox) honour; tenant tables still show nothing.
  static absl::StatusOr<Transaction> BeginSystem(Pool& pool, absl::Time deadline);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // Sends a statement; its result is read by a later Exec/Commit. Returns its index for ResultOf.
  int Queue(absl::string_view sql, const Params& params = {});
  // Sends a statement and returns its result (and any error of statements queued before it).
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params = {});
  // Commits. Returns the first error of any statement; then nothing was written. Either way the
  // connection goes back to the pool; results stay readable.
  absl::Status Commit();
  // Rolls back now and gives the connection back (for error paths that query again).
  void Abort() {
    if (!done_) Rollback();
  }
  // Runs `callback` after a successful Commit (metrics, cache updates); never on rollback.
  void OnCommit(std::function<void()> callback) { on_commit_.push_back(std::move(callback)); }
  // After a successful Commit: the result of the statement Queue() numbered `index`.
  const Result& ResultOf(int index) const { return results_[slot_of_[index]]; }

 private:
  explicit Transaction(PooledConnection conn) : conn_(std::move(conn)) {}
  static absl::StatusOr<Transaction> Start(Pool& pool, absl::string_view tenant, bool all_tenants,
                                           absl::Time deadline);
  // Reads results up to and including slot `slot`.
  absl::Status ReadThrough(int slot);
  // Sends the sync point and consumes every result up to it.
  absl::Status Sync();
  void Fail(absl::Status status);
  void Rollback();

  PooledConnection conn_;
  // One slot per message that yields a result: PREPAREs and statements.
  std::vector<Result> results_;
  std::vector<int> slot_of_;  // statement index -> its slot in results_
  int read_ = 0;              // slots read so far
  // SQL first prepared by this transaction, with the slot of its PREPARE.
  std::vector<std::pair<std::string, int>> prepared_here_;
  // Forgets the statements whose PREPARE did not succeed (they may not exist on the server).
  void ForgetFailedPrepares();
  std::vector<std::function<void()>> on_commit_;
  absl::Status first_error_;
  bool done_ = false;
};

}  // namespace crm::db

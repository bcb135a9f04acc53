// A database transaction scoped to one tenant, pipelined to save round trips.
//
// Begin() queues BEGIN and the tenant setting for row-level security (`app.tenant`, read by every
// table's policy) plus a statement timeout derived from the caller's deadline. Statements are sent
// in libpq pipeline mode: Queue() sends without waiting, Exec() waits for that statement's rows,
// Commit() sends COMMIT and waits for everything. A create that queues its INSERTs and commits
// costs a single network round trip. A transaction that is destroyed without Commit() rolls back.
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/result.h"

namespace crm::db {

class Transaction final {
 public:
  // Use an empty tenant only for cross-tenant system work on tables whose policy allows it.
  static absl::StatusOr<Transaction> Begin(Pool& pool, absl::string_view tenant,
                                           absl::Time deadline);
  Transaction(Transaction&& other) noexcept
      : conn_(std::move(other.conn_)),
        results_(std::move(other.results_)),
        sent_(other.sent_),
        read_(other.read_),
        pending_syncs_(other.pending_syncs_),
        first_error_(std::move(other.first_error_)),
        done_(other.done_) {
    other.done_ = true;  // the moved-from shell has no connection to roll back
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // Sends a statement; its result is read by a later Exec/Commit. Returns its index for ResultOf.
  int Queue(absl::string_view sql, const Params& params = {});
  // Sends a statement and returns its result (and any error of statements queued before it).
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params = {});
  // Commits. Returns the first error of any statement; then nothing was written.
  absl::Status Commit();
  // After a successful Commit: the result of the statement Queue() numbered `index`.
  const Result& ResultOf(int index) const { return results_[index]; }

 private:
  Transaction(PooledConnection conn) : conn_(std::move(conn)) {}
  // Reads results up to and including statement `index`.
  absl::Status ReadThrough(int index);
  void Rollback();

  PooledConnection conn_;
  std::vector<Result> results_;  // one per sent statement (BEGIN and setup included)
  int sent_ = 0;
  int read_ = 0;
  int pending_syncs_ = 0;  // sync points sent whose PGRES_PIPELINE_SYNC is unread
  absl::Status first_error_;
  bool done_ = false;
};

}  // namespace crm::db

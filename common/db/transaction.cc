#include "common/db/transaction.h"

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sqlstate.h"

namespace crm::db {
namespace {

constexpr absl::string_view kSetup =
    "SELECT set_config('app.tenant', $1, true), set_config('statement_timeout', $2, true)";

}  // namespace

absl::StatusOr<Transaction> Transaction::Begin(Pool& pool, absl::string_view tenant,
                                               absl::Time deadline) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(deadline));
  const absl::Duration left =
      std::clamp(deadline - absl::Now(), absl::Milliseconds(1), pool.options().statement_timeout);
  PGconn* raw = conn->raw();
  if (PQenterPipelineMode(raw) != 1) {
    conn->MarkBroken();
    return absl::UnavailableError(absl::StrCat("database: ", PQerrorMessage(raw)));
  }
  Transaction tx(std::move(conn));
  tx.Queue("BEGIN");
  tx.Queue(kSetup, {std::string(tenant), absl::StrCat(absl::ToInt64Milliseconds(left))});
  return tx;
}

Transaction::~Transaction() {
  if (!done_) Rollback();
}

int Transaction::Queue(absl::string_view sql, const Params& params) {
  if (first_error_.ok() && !SendStatement(conn_->raw(), sql, params)) {
    conn_->MarkBroken();
    first_error_ = StatusFromResult(nullptr, conn_->raw());
  }
  results_.emplace_back();
  return sent_++;
}

absl::StatusOr<Result> Transaction::Exec(absl::string_view sql, const Params& params) {
  const int index = Queue(sql, params);
  if (first_error_.ok() && (PQsendFlushRequest(conn_->raw()) != 1 || PQflush(conn_->raw()) != 0)) {
    conn_->MarkBroken();
    first_error_ = StatusFromResult(nullptr, conn_->raw());
  }
  RETURN_IF_ERROR(ReadThrough(index));
  return results_[index];
}

absl::Status Transaction::ReadThrough(int index) {
  PGconn* raw = conn_->raw();
  while (read_ <= index && first_error_.ok()) {
    // Each statement yields its result(s) followed by a null.
    while (PGresult* r = PQgetResult(raw)) {
      const ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        results_[read_] = Result(r);
      } else {
        if (first_error_.ok()) first_error_ = StatusFromResult(r, raw);
        PQclear(r);
      }
    }
    if (PQstatus(raw) != CONNECTION_OK) {
      conn_->MarkBroken();
      if (first_error_.ok()) first_error_ = StatusFromResult(nullptr, raw);
    }
    ++read_;
  }
  return first_error_;
}

absl::Status Transaction::Commit() {
  if (done_) return absl::FailedPreconditionError("transaction already finished");
  if (!first_error_.ok()) {
    Rollback();
    return first_error_;
  }
  const int commit = Queue("COMMIT");
  PGconn* raw = conn_->raw();
  if (first_error_.ok()) {
    if (PQpipelineSync(raw) == 1) {
      ++pending_syncs_;
    } else {
      conn_->MarkBroken();
      first_error_ = StatusFromResult(nullptr, raw);
    }
  }
  absl::Status status = ReadThrough(commit);
  if (!status.ok()) {
    Rollback();
    return status;
  }
  PGresult* sync = PQgetResult(raw);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (synced) --pending_syncs_;
  if (!synced || PQexitPipelineMode(raw) != 1) {
    conn_->MarkBroken();
    done_ = true;
    return absl::UnavailableError("database: lost pipeline synchronisation");
  }
  done_ = true;
  return absl::OkStatus();
}

void Transaction::Rollback() {
  done_ = true;
  PGconn* raw = conn_->raw();
  // After an error the server skips everything up to the next sync point. Send one, drain every
  // result up to it, then roll back outside the pipeline so the connection goes back idle.
  if (PQstatus(raw) != CONNECTION_OK || PQpipelineSync(raw) != 1) {
    conn_->MarkBroken();
    return;
  }
  ++pending_syncs_;
  while (pending_syncs_ > 0) {
    PGresult* r = PQgetResult(raw);
    if (r == nullptr) {
      if (PQstatus(raw) != CONNECTION_OK) break;
      continue;  // the end of one statement's results
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) --pending_syncs_;
    PQclear(r);
  }
  if (pending_syncs_ > 0 || PQexitPipelineMode(raw) != 1) {
    conn_->MarkBroken();
    return;
  }
  if (PQtransactionStatus(raw) != PQTRANS_IDLE && !conn_->Exec("ROLLBACK").ok()) {
    conn_->MarkBroken();
  }
}

}  // namespace crm::db

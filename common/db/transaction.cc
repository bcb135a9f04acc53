#include "common/db/transaction.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/db/sqlstate.h"
#include "common/log/log.h"

namespace crm::db {
namespace {

constexpr absl::string_view kSetup =
    "SELECT set_config('app.tenant', $1, true), set_config('statement_timeout', $2, true), "
    "set_config('app.all_tenants', $3, true)";

}  // namespace

absl::StatusOr<Transaction> Transaction::Begin(Pool& pool, absl::string_view tenant,
                                               absl::Time deadline) {
  return Start(pool, tenant, /*all_tenants=*/false, deadline);
}

absl::StatusOr<Transaction> Transaction::BeginSystem(Pool& pool, absl::Time deadline) {
  return Start(pool, "", /*all_tenants=*/true, deadline);
}

absl::StatusOr<Transaction> Transaction::Start(Pool& pool, absl::string_view tenant,
                                               bool all_tenants, absl::Time deadline) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(deadline, std::string(tenant)));
  const absl::Duration left =
      std::clamp(deadline - absl::Now(), absl::Milliseconds(1), pool.options().statement_timeout);
  PGconn* raw = conn->raw();
  if (PQenterPipelineMode(raw) != 1) {
    conn->MarkBroken();
    spdlog::warn("database pipeline mode refused: {}", PQerrorMessage(raw));
    return absl::UnavailableError("database unavailable; retry shortly");
  }
  Transaction tx(std::move(conn));
  tx.Queue(kSetup, {std::string(tenant), absl::StrCat(absl::ToInt64Milliseconds(left)),
                    all_tenants ? "on" : "off"});
  return tx;
}

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::move(other.conn_)),
      results_(std::move(other.results_)),
      slot_of_(std::move(other.slot_of_)),
      read_(other.read_),
      prepared_here_(std::move(other.prepared_here_)),
      on_commit_(std::move(other.on_commit_)),
      first_error_(std::move(other.first_error_)),
      done_(other.done_) {
  other.done_ = true;  // the moved-from shell has no connection to roll back
}

Transaction::~Transaction() {
  if (!done_) Rollback();
}

void Transaction::Fail(absl::Status status) {
  if (first_error_.ok()) first_error_ = std::move(status);
}

int Transaction::Queue(absl::string_view sql, const Params& params) {
  if (done_ || !conn_.held()) {
    Fail(absl::FailedPreconditionError("statement queued on a finished transaction"));
    slot_of_.push_back(static_cast<int>(results_.size()));
    results_.emplace_back();
    return static_cast<int>(slot_of_.size()) - 1;
  }
  PGconn* raw = conn_->raw();
  if (first_error_.ok()) {
    const std::string* name = conn_->PreparedName(sql);
    if (name == nullptr && (name = conn_->AddPrepared(sql)) != nullptr) {
      prepared_here_.emplace_back(std::string(sql), static_cast<int>(results_.size()));
      if (PQsendPrepare(raw, name->c_str(), std::string(sql).c_str(),
                        static_cast<int>(params.size()), nullptr) != 1) {
        conn_->MarkBroken();
        Fail(StatusFromResult(nullptr, raw));
      }
      results_.emplace_back();  // the PREPARE's own result
    }
    if (first_error_.ok() && !SendStatement(raw, sql, params, name)) {
      conn_->MarkBroken();
      Fail(StatusFromResult(nullptr, raw));
    }
  }
  slot_of_.push_back(static_cast<int>(results_.size()));
  results_.emplace_back();
  // Read results as we go on long pipelines: with nobody reading, the server's output buffer
  // fills while we block writing, and both sides would wait for ever.
  constexpr int kMaxUnread = 256;
  if (first_error_.ok() && static_cast<int>(results_.size()) - read_ > kMaxUnread) {
    if (PQsendFlushRequest(raw) != 1 || PQflush(raw) != 0) {
      conn_->MarkBroken();
      Fail(StatusFromResult(nullptr, raw));
    } else {
      (void)ReadThrough(static_cast<int>(results_.size()) - 1);
    }
  }
  return static_cast<int>(slot_of_.size()) - 1;
}

absl::StatusOr<Result> Transaction::Exec(absl::string_view sql, const Params& params) {
  const absl::Time start = absl::Now();
  Pool* pool = conn_.held() ? conn_.pool() : nullptr;
  const int index = Queue(sql, params);
  if (!first_error_.ok()) return first_error_;
  PGconn* raw = conn_->raw();
  if (first_error_.ok() && (PQsendFlushRequest(raw) != 1 || PQflush(raw) != 0)) {
    conn_->MarkBroken();
    Fail(StatusFromResult(nullptr, raw));
  }
  RETURN_IF_ERROR(ReadThrough(slot_of_[index]));
  if (pool != nullptr) pool->ObserveStatement(sql, absl::Now() - start);
  return results_[slot_of_[index]];
}

absl::Status Transaction::ReadThrough(int slot) {
  PGconn* raw = conn_->raw();
  while (read_ <= slot && first_error_.ok()) {
    // Each message yields its result(s) followed by a null.
    while (PGresult* r = PQgetResult(raw)) {
      const ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        results_[read_] = Result(r);
      } else {
        Fail(StatusFromResult(r, raw));
        PQclear(r);
      }
    }
    if (PQstatus(raw) != CONNECTION_OK) {
      conn_->MarkBroken();
      Fail(StatusFromResult(nullptr, raw));
    }
    ++read_;
  }
  return first_error_;
}

absl::Status Transaction::Sync() {
  PGconn* raw = conn_->raw();
  if (PQpipelineSync(raw) != 1) {
    conn_->MarkBroken();
    return StatusFromResult(nullptr, raw);
  }
  // Drain everything up to the sync point: results of statements not read yet (after an error
  // the server skips them and reports PGRES_PIPELINE_ABORTED), then the sync itself.
  for (;;) {
    PGresult* r = PQgetResult(raw);
    if (r == nullptr) {
      if (PQstatus(raw) != CONNECTION_OK) {
        conn_->MarkBroken();
        return StatusFromResult(nullptr, raw);
      }
      continue;  // the end of one message's results
    }
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (st == PGRES_FATAL_ERROR) Fail(StatusFromResult(r, raw));  // also errors at commit
    if (read_ < static_cast<int>(results_.size())) {
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        results_[read_] = Result(r);
        r = nullptr;
      }
      // A message's results end with a null; consume it with the message.
      PGresult* end = PQgetResult(raw);
      PQclear(end);
      ++read_;
    }
    PQclear(r);
  }
  if (PQexitPipelineMode(raw) != 1) {
    conn_->MarkBroken();
    return absl::UnavailableError("database: lost pipeline synchronisation");
  }
  return absl::OkStatus();
}

absl::Status Transaction::Commit() {
  if (done_) return absl::FailedPreconditionError("transaction already finished");
  if (!first_error_.ok()) {
    Rollback();
    return first_error_;
  }
  done_ = true;
  const absl::Time start = absl::Now();
  Pool* pool = conn_.held() ? conn_.pool() : nullptr;
  // The sync point ends the implicit transaction block: commit if every statement succeeded.
  absl::Status status = Sync();
  if (pool != nullptr) pool->ObserveCommit(absl::Now() - start);
  if (!status.ok()) Fail(status);
  if (!first_error_.ok()) {
    ForgetFailedPrepares();
    conn_.Release();
    return first_error_;
  }
  conn_.Release();
  for (auto& callback : on_commit_) callback();
  return absl::OkStatus();
}

void Transaction::ForgetFailedPrepares() {
  std::vector<std::string> failed;
  for (const auto& [sql, slot] : prepared_here_) {
    // A PREPARE that was read and succeeded exists on the server (Parse is not transactional).
    const bool prepared = slot < read_ && results_[slot].ok();
    if (!prepared) failed.push_back(sql);
  }
  conn_->ForgetPrepared(failed);
}

void Transaction::Rollback() {
  done_ = true;
  if (!conn_.held()) return;
  ForgetFailedPrepares();
  PGconn* raw = conn_->raw();
  if (PQstatus(raw) != CONNECTION_OK) {
    conn_->MarkBroken();
    conn_.Release();
    return;
  }
  // ROLLBACK inside the implicit block aborts it, so the sync point commits nothing. If an error
  // already aborted the block, the server skips this statement and the sync rolls back anyway.
  if (PQsendQueryParams(raw, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    conn_->MarkBroken();
    conn_.Release();
    return;
  }
  results_.emplace_back();
  if (!Sync().ok()) conn_->MarkBroken();
  conn_.Release();
}

}  // namespace crm::db

#include "common/db/connection.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/db/sqlstate.h"
#include "common/log/log.h"

namespace crm::db {

namespace {

// Drives a non-blocking connect to its end or to `deadline`.
bool FinishConnecting(PGconn* conn, absl::Time deadline) {
  // After PQconnectStartParams libpq wants the socket writable first.
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return false;
    const int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now()) + 1;
    if (wait_ms <= 0) return false;
    // The socket can change between calls (libpq tries each address in turn).
    pollfd fd{PQsocket(conn), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT),
              0};
    const int ready = poll(&fd, 1, static_cast<int>(std::min<int64_t>(wait_ms, 60000)));
    if (ready < 0 && errno != EINTR) return false;
    if (ready > 0) state = PQconnectPoll(conn);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                             absl::Time deadline) {
  const char* keys[] = {"dbname", "keepalives", "keepalives_idle", nullptr};
  const char* values[] = {conninfo.c_str(), "1", "30", nullptr};
  // expand_dbname=1: `dbname` may hold a full conninfo string or URI.
  PGconn* conn = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("database: out of memory");
  const bool started = PQstatus(conn) != CONNECTION_BAD;
  if (!started || !FinishConnecting(conn, deadline)) {
    // The detail (host, port, what refused) is for the operator's log, never for a client.
    spdlog::error("database connection failed: {}",
                  PQstatus(conn) == CONNECTION_BAD ? PQerrorMessage(conn) : "timed out");
    PQfinish(conn);
    return absl::UnavailableError("database unavailable; retry shortly");
  }
  // Notices (e.g. "there is no transaction in progress") are expected and not worth a log line.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

absl::StatusOr<Result> Connection::Exec(absl::string_view sql, const Params& params) {
  if (!SendStatement(conn_, sql, params)) {
    broken_ = PQstatus(conn_) != CONNECTION_OK;
    return StatusFromResult(nullptr, conn_);
  }
  Result last;
  absl::Status error;
  while (PGresult* r = PQgetResult(conn_)) {
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      last = Result(r);
    } else {
      if (error.ok()) error = StatusFromResult(r, conn_);
      PQclear(r);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  if (!error.ok()) return error;
  return last;
}

absl::Status Connection::ExecScript(absl::string_view sql) {
  std::string script(sql);
  PGresult* r = PQexec(conn_, script.c_str());
  absl::Status status = absl::OkStatus();
  if (r == nullptr || PQresultStatus(r) == PGRES_FATAL_ERROR) status = StatusFromResult(r, conn_);
  PQclear(r);
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  return status;
}

bool Connection::IsUsable() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return false;
  // An idle connection has nothing to read. If the socket is readable, the server sent something
  // unprompted: usually a FATAL termination message before closing (restart, admin kill).
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  if (poll(&pfd, 1, 0) > 0) {
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) broken_ = true;
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
    if (pfd.revents & (POLLHUP | POLLERR)) broken_ = true;
  }
  return !broken_;
}

const std::string* Connection::PreparedName(absl::string_view sql) const {
  auto it = prepared_.find(sql);
  return it == prepared_.end() ? nullptr : &it->second;
}

const std::string* Connection::AddPrepared(absl::string_view sql) {
  if (prepared_.size() >= kMaxPrepared) return nullptr;
  auto [it, inserted] = prepared_.emplace(std::string(sql), absl::StrCat("crm_", next_statement_));
  ++next_statement_;
  return &it->second;
}

void Connection::ForgetPrepared(const std::vector<std::string>& sqls) {
  for (const std::string& sql : sqls) prepared_.erase(sql);
}

bool SendStatement(PGconn* conn, absl::string_view sql, const Params& params,
                   const std::string* prepared_name) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int n = static_cast<int>(params.size());
  if (prepared_name != nullptr) {
    return PQsendQueryPrepared(conn, prepared_name->c_str(), n, values.data(), nullptr, nullptr,
                               0) == 1;
  }
  const std::string query(sql);
  return PQsendQueryParams(conn, query.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0) ==
         1;
}

}  // namespace crm::db

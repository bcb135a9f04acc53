// One libpq connection (RAII, non-copyable), with the checks the pool needs to notice that the
// server went away (restart, failover) before handing the connection out again.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/result.h"

namespace crm::db {

// A bound parameter in text format; std::nullopt is SQL NULL. Values are never spliced into SQL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

class Connection final {
 public:
  // Connects with `conninfo` (a libpq URI or key=value string), giving up at `deadline` (to the
  // millisecond: libpq's own connect_timeout counts whole seconds, at least two).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                          absl::Time deadline);
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                          absl::Duration connect_timeout) {
    return Open(conninfo, absl::Now() + connect_timeout);
  }
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement outside pipeline mode (admin paths: migrations, LISTEN, tests).
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params = {});
  // Runs a multi-statement script with the simple query protocol (migration files).
  absl::Status ExecScript(absl::string_view sql);

  // False once the server closed the connection or a call failed at the transport level.
  // Polls the socket without blocking, so a connection the server dropped while idle is noticed.
  bool IsUsable();
  void MarkBroken() { broken_ = true; }

  PGconn* raw() { return conn_; }

  // Server-side prepared statements of this connection, by SQL text. Preparing once per
  // connection saves PostgreSQL the parse and plan of every later execution.
  // Returns the statement's name, or nullptr when `sql` is not prepared.
  const std::string* PreparedName(absl::string_view sql) const;
  // Records `sql` as prepared under a fresh name and returns the name; nullptr when the cache is
  // full (dynamic SQL, e.g. from filters, is then sent unprepared).
  const std::string* AddPrepared(absl::string_view sql);
  // Forgets statements whose PREPARE may not have happened (the transaction failed). Names are
  // never reused, so a statement that did get prepared is merely orphaned, never confused.
  void ForgetPrepared(const std::vector<std::string>& sqls);

 private:
  static constexpr size_t kMaxPrepared = 512;
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  bool broken_ = false;
  absl::flat_hash_map<std::string, std::string> prepared_;
  int64_t next_statement_ = 0;
};

// Sends one statement on `conn` without waiting for the result (works in pipeline mode); by name
// when `prepared_name` is not null.
bool SendStatement(PGconn* conn, absl::string_view sql, const Params& params,
                   const std::string* prepared_name = nullptr);

}  // namespace crm::db

// One libpq connection (RAII, non-copyable), with the checks the pool needs to notice that the
// server went away (restart, failover) before handing the connection out again.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include <libpq-fe.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/result.h"

namespace crm::db {

// A bound parameter in text format; std::nullopt is SQL NULL. Values are never spliced into SQL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

class Connection final {
 public:
  // Connects with `conninfo` (a libpq URI or key=value string).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                          absl::Duration connect_timeout);
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

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  bool broken_ = false;
};

// Sends one statement on `conn` without waiting for the result (works in pipeline mode).
bool SendStatement(PGconn* conn, absl::string_view sql, const Params& params);

}  // namespace crm::db

#include "common/config/service_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:0", "host:port for gRPC (port 0: any free port)");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:0",
          "host:port for Prometheus /metrics (port 0: any free port)");
ABSL_FLAG(std::string, ready_file, "",
          "Where to write the bound ports once serving (grpc_port=N, metrics_port=M)");
ABSL_FLAG(int, drain_seconds, 10, "On SIGTERM, how long in-flight RPCs may take to finish");
ABSL_FLAG(int, max_threads, 64, "Upper bound on RPC threads");
ABSL_FLAG(std::string, db_url, "", "libpq connection string or URI of this service's database");
ABSL_FLAG(int, db_pool_size, 8, "Connections in the database pool");
ABSL_FLAG(int, db_acquire_timeout_ms, 2000, "How long a request waits for a free connection");
ABSL_FLAG(int, db_statement_timeout_ms, 30000, "Upper bound on any SQL statement");
ABSL_FLAG(std::string, jwt_secret, "",
          "HS256 secret for bearer tokens, inline or @/path/to/file (local runs)");
ABSL_FLAG(std::string, jwt_public_key, "",
          "RS256 public key (PEM), inline or @/path/to/file (production)");
ABSL_FLAG(int, outbox_retention_hours, 24 * 7, "Events older than this are pruned from the outbox");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error");

namespace crm::config {

server::ServerOptions ServerOptionsFromFlags(const std::string& service_name) {
  server::ServerOptions options;
  options.service_name = service_name;
  options.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.ready_file = absl::GetFlag(FLAGS_ready_file);
  options.drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  return options;
}

db::PoolOptions PoolOptionsFromFlags() {
  db::PoolOptions options;
  options.conninfo = absl::GetFlag(FLAGS_db_url);
  options.size = absl::GetFlag(FLAGS_db_pool_size);
  options.acquire_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_db_acquire_timeout_ms));
  options.statement_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_db_statement_timeout_ms));
  return options;
}

absl::StatusOr<auth::AuthOptions> AuthOptionsFromFlags() {
  auth::AuthOptions options;
  const std::string secret = absl::GetFlag(FLAGS_jwt_secret);
  const std::string key = absl::GetFlag(FLAGS_jwt_public_key);
  if (!secret.empty()) {
    auto value = auth::ReadSecret(secret);
    if (!value.ok()) return value.status();
    options.hs256_secret = *value;
  }
  if (!key.empty()) {
    auto value = auth::ReadSecret(key);
    if (!value.ok()) return value.status();
    options.rs256_public_key_pem = *value;
  }
  return options;
}

absl::Duration OutboxRetentionFromFlags() {
  return absl::Hours(absl::GetFlag(FLAGS_outbox_retention_hours));
}

std::string LogLevelFromFlags() { return absl::GetFlag(FLAGS_log_level); }

}  // namespace crm::config

#include "common/config/service_flags.h"

#include <algorithm>
#include <utility>

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
ABSL_FLAG(double, db_tenant_share, 0.5,
          "Fraction of the pool one tenant may hold at once (its other requests wait or are "
          "refused), so that one tenant's heavy work leaves room for the others");
ABSL_FLAG(int, db_tenant_waiting, 4,
          "Requests of a tenant at its share that may wait for a connection; the rest are "
          "refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, jwt_secret, "",
          "HS256 secret (32+ bytes) for user tokens, inline or @/path/to/file (local runs)");
ABSL_FLAG(std::string, jwt_public_key, "",
          "RS256 or ES256 public key (PEM) of the user tokens' issuer, inline or @/path/to/file");
ABSL_FLAG(std::string, jwt_jwks_file, "",
          "JWKS document of the user tokens' issuer (keys by kid), re-read when it changes");
ABSL_FLAG(std::string, jwt_issuer, "", "When set, user tokens' iss must equal it");
ABSL_FLAG(std::string, jwt_audience, "", "When set, user tokens' aud must contain it");
ABSL_FLAG(int, jwt_max_lifetime_hours, 24,
          "Longest lifetime (exp - iat, exp - now) of a user token");
ABSL_FLAG(std::string, service_secret, "",
          "HS256 secret (32+ bytes, unlike --jwt_secret) of the service identity that backend "
          "services use to follow each other's event streams, inline or @file");
ABSL_FLAG(int, outbox_retention_hours, 24 * 7, "Events older than this are pruned from the outbox");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error");
ABSL_FLAG(int, workers, 32,
          "Threads for the work of RPCs that may wait on the database (a stream that waits for "
          "its next message or event holds none)");
ABSL_FLAG(int, max_streams_per_user, 8, "Open streams (watches, exports, imports) per user");
ABSL_FLAG(int, max_streams_per_tenant, 5000, "Open streams per tenant on one replica");
ABSL_FLAG(int, max_streams, 20000, "Open streams on one replica in all");

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
  options.tenant_share = std::clamp(absl::GetFlag(FLAGS_db_tenant_share), 0.0, 1.0);
  options.tenant_waiting = std::max(0, absl::GetFlag(FLAGS_db_tenant_waiting));
  return options;
}

absl::StatusOr<auth::AuthOptions> AuthOptionsFromFlags() {
  auth::AuthOptions options;
  for (auto [flag, target] : {std::pair{&FLAGS_jwt_secret, &options.hs256_secret},
                              std::pair{&FLAGS_jwt_public_key, &options.public_key_pem},
                              std::pair{&FLAGS_service_secret, &options.service_secret}}) {
    const std::string value = absl::GetFlag(*flag);
    if (value.empty()) continue;
    absl::StatusOr<std::string> read = auth::ReadSecret(value);
    if (!read.ok()) return read.status();
    *target = *std::move(read);
  }
  options.jwks_file = absl::GetFlag(FLAGS_jwt_jwks_file);
  options.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  options.audience = absl::GetFlag(FLAGS_jwt_audience);
  options.max_user_token_lifetime = absl::Hours(absl::GetFlag(FLAGS_jwt_max_lifetime_hours));
  return options;
}

absl::Duration OutboxRetentionFromFlags() {
  return absl::Hours(absl::GetFlag(FLAGS_outbox_retention_hours));
}

std::string LogLevelFromFlags() { return absl::GetFlag(FLAGS_log_level); }

int WorkersFromFlags() { return absl::GetFlag(FLAGS_workers); }

server::StreamLimits StreamLimitsFromFlags() {
  return {.per_user = absl::GetFlag(FLAGS_max_streams_per_user),
          .per_tenant = absl::GetFlag(FLAGS_max_streams_per_tenant),
          .in_all = absl::GetFlag(FLAGS_max_streams)};
}

}  // namespace crm::config

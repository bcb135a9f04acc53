// A minimal consuming service for the consumer tests: follows a producer's EventStream with the
// shared EventConsumer and records each event's effect in `reporting.sink_effects`, counting
// applications, so a test can prove each event took effect exactly once across kills.
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/auth/authenticator.h"
#include "common/db/migrations.h"
#include "common/events/consumer.h"
#include "common/log/log.h"
#include "common/server/server.h"

extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

ABSL_FLAG(std::string, db_url, "", "consumer database (reporting role)");
ABSL_FLAG(std::string, source, "", "producer host:port");
ABSL_FLAG(std::string, service_secret, "", "the service identity's secret, to mint its token");
ABSL_FLAG(std::string, consumer, "sink.contacts", "consumer name");
ABSL_FLAG(std::string, applier, "", "this replica's id, recorded with each effect");
ABSL_FLAG(std::string, ready_file, "", "written once the consumer started");

namespace {

const std::vector<crm::EmbeddedFile>& SinkMigrations() {
  static const auto* files = new std::vector<crm::EmbeddedFile>{
      {"001_sink.sql",
       "CREATE TABLE sink_effects (event_id uuid PRIMARY KEY, position bigint NOT NULL,"
       " applier text NOT NULL, applied_count integer NOT NULL DEFAULT 1)"}};
  return *files;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  crm::log::Init("sink");
  std::vector<crm::EmbeddedFile> migrations = SinkMigrations();
  migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
  if (auto s = crm::db::Migrate(absl::GetFlag(FLAGS_db_url), "reporting", migrations); !s.ok()) {
    spdlog::critical("migrations: {}", s.ToString());
    return 1;
  }
  crm::db::PoolOptions pool_options;
  pool_options.conninfo = absl::GetFlag(FLAGS_db_url) + " options='-c search_path=reporting'";
  crm::db::Pool pool(pool_options, nullptr);
  const std::string applier = absl::GetFlag(FLAGS_applier);
  crm::events::ConsumerOptions options;
  options.name = absl::GetFlag(FLAGS_consumer);
  options.schema = "reporting";
  options.source_address = absl::GetFlag(FLAGS_source);
  options.standby_retry = absl::Milliseconds(100);
  options.token = [] {
    return crm::auth::MintServiceToken("sink", absl::GetFlag(FLAGS_service_secret));
  };
  crm::events::EventConsumer consumer(
      options, pool,
      [&applier](crm::db::Transaction& tx, const crm::common::v1::Event& event) {
        tx.Queue(
            "INSERT INTO reporting.sink_effects (event_id, position, applier) "
            "VALUES ($1::uuid, $2, $3) ON CONFLICT (event_id) DO UPDATE "
            "SET applied_count = sink_effects.applied_count + 1",
            {event.event_id(), std::to_string(event.position()), applier});
        return absl::OkStatus();
      },
      nullptr);
  consumer.Start();
  if (!absl::GetFlag(FLAGS_ready_file).empty()) {
    FILE* f = fopen(absl::GetFlag(FLAGS_ready_file).c_str(), "w");
    if (f != nullptr) {
      fputs("ready=1\n", f);
      fclose(f);
    }
  }
  crm::server::WaitForTerminationSignal();
  consumer.Stop();
  return 0;
}

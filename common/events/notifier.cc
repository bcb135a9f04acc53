#include "common/events/notifier.h"

#include <poll.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/db/connection.h"
#include "common/log/log.h"

namespace crm::events {

Notifier::Notifier(std::string conninfo, std::string channel)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  thread_ = std::thread([this] { Run(); });
  announcer_ = std::thread([this] { RunAnnouncer(); });
}

void Notifier::Announce() {
  {
    absl::MutexLock lock(&mu_);
    announce_pending_ = true;
  }
  Changed();
}

void Notifier::Changed() {
  {
    absl::MutexLock lock(&mu_);
    ++generation_;
  }
  for (const auto& listener : listeners_) listener();
}

void Notifier::RunAnnouncer() {
  std::unique_ptr<db::Connection> conn;
  while (!stopping_) {
    {
      absl::MutexLock lock(&mu_);
      auto pending = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return announce_pending_ || stopping_.load();
      };
      mu_.AwaitWithTimeout(absl::Condition(&pending), absl::Milliseconds(200));
      if (!announce_pending_) continue;
      announce_pending_ = false;  // every announce until now is covered by the NOTIFY below
    }
    if (conn == nullptr || !conn->IsUsable()) {
      auto opened = db::Connection::Open(conninfo_, absl::Seconds(5));
      if (!opened.ok()) {
        // Other replicas' readers fall back to their safety poll; retry on the next announce.
        conn.reset();
        continue;
      }
      conn = *std::move(opened);
      announcer_backend_pid_ = PQbackendPID(conn->raw());
    }
    // Outside any writer's transaction: it writes no data, so its commit waits for no WAL flush.
    if (!conn->Exec("SELECT pg_notify($1, '')", {channel_}).ok()) conn.reset();
    // Announces during the pause are covered by the next NOTIFY.
    absl::SleepFor(kAnnounceInterval);
  }
}

void Notifier::Stop() {
  if (!stopping_.exchange(true)) Changed();  // release waiters, once
  if (thread_.joinable()) thread_.join();
  if (announcer_.joinable()) announcer_.join();
}

uint64_t Notifier::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

uint64_t Notifier::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return generation_ != seen; };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return generation_;
}

void Notifier::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stopping_) {
    auto conn = db::Connection::Open(conninfo_, absl::Seconds(5));
    if (conn.ok() && (*conn)->Exec(absl::StrCat("LISTEN ", channel_)).ok()) {
      backoff = absl::Milliseconds(100);
      // Events may have committed while we were not listening: wake readers once.
      Changed();
      PGconn* raw = (*conn)->raw();
      while (!stopping_) {
        pollfd pfd{PQsocket(raw), POLLIN, 0};
        const int ready = poll(&pfd, 1, /*timeout_ms=*/200);  // 200 ms: how fast Stop() returns
        if (ready < 0) break;
        if (ready == 0) continue;
        if (PQconsumeInput(raw) == 0) break;  // connection lost
        bool notified = false;
        while (PGnotify* n = PQnotifies(raw)) {
          if (n->be_pid != announcer_backend_pid_) notified = true;  // ours woke readers already
          PQfreemem(n);
        }
        if (notified) Changed();
      }
      if (!stopping_) spdlog::warn("event notifier lost its connection; reconnecting");
    }
    if (stopping_) break;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace crm::events

#include "services/tasks/webhook_dispatcher.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/result.h"
#include "common/db/sql_helpers.h"
#include "common/log/log.h"
#include "services/tasks/webhook_signature.h"

namespace crm::tasks {

struct WebhookDispatcher::Transfer {
  std::string tenant;
  std::string webhook_id;
  std::string delivery_id;
  int attempt = 0;
  std::string body;
  std::string url;
  absl::Time started;
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  bool refused_internal = false;  // the address was internal: never connected
};

namespace {

// Receivers' answers are not read, only their status.
size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

// Loopback, private, link-local (cloud metadata), unspecified and multicast addresses: a tenant's
// webhook must not reach into the network the service runs in.
}  // namespace

namespace {

// Whether the IPv4 address embedded at `bytes` (4 bytes, network order) is internal.
bool IsInternalV4(const uint8_t* bytes) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  std::memcpy(&v4.sin_addr, bytes, 4);
  return IsInternalAddress(reinterpret_cast<const sockaddr*>(&v4));
}

}  // namespace

bool IsInternalAddress(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    const uint32_t a = ip >> 24, b = (ip >> 16) & 0xff, c = (ip >> 8) & 0xff;
    return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) ||
           (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) ||
           (a == 100 && b >= 64 && b <= 127) ||   // shared address space (carrier NAT)
           (a == 192 && b == 0 && c == 0) ||      // IETF protocol assignments
           (a == 198 && (b == 18 || b == 19)) ||  // benchmarking
           a >= 224;                              // multicast, reserved, broadcast
  }
  if (address->sa_family == AF_INET6) {
    const uint8_t* ip = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
    const in6_addr& in6 = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    auto zero = [ip](int from, int to) {
      for (int i = from; i < to; ++i) {
        if (ip[i] != 0) return false;
      }
      return true;
    };
    // Forms that carry an IPv4 address: judged by it. Mapped ::ffff:a.b.c.d, the deprecated
    // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, and 6to4 2002:a.b.c.d::.
    if (IN6_IS_ADDR_V4MAPPED(&in6)) return IsInternalV4(ip + 12);
    if (zero(0, 12) && !IN6_IS_ADDR_LOOPBACK(&in6) && !IN6_IS_ADDR_UNSPECIFIED(&in6)) {
      return IsInternalV4(ip + 12);
    }
    if (ip[0] == 0x00 && ip[1] == 0x64 && ip[2] == 0xff && ip[3] == 0x9b) {
      return zero(4, 12) ? IsInternalV4(ip + 12) : true;  // 64:ff9b:1::/48 is local NAT64
    }
    if (ip[0] == 0x20 && ip[1] == 0x02) return IsInternalV4(ip + 2);
    return IN6_IS_ADDR_LOOPBACK(&in6) || IN6_IS_ADDR_UNSPECIFIED(&in6) ||
           IN6_IS_ADDR_LINKLOCAL(&in6) || IN6_IS_ADDR_SITELOCAL(&in6) ||
           IN6_IS_ADDR_MULTICAST(&in6) || (ip[0] & 0xfe) == 0xfc ||         // unique local
           (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0 && ip[3] == 0) ||  // Teredo
           (ip[0] == 0x01 && zero(1, 8));                                   // discard-only
  }
  return true;
}

namespace {

// Whether the URL's host is an IP address written out (not a name).
bool HostIsAddress(const std::string& url) {
  absl::string_view rest = url;
  rest = rest.substr(rest.find("://") == absl::string_view::npos ? 0 : rest.find("://") + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  std::string host;
  if (absl::StartsWith(rest, "[")) {
    host = std::string(rest.substr(1, rest.find(']') - 1));
  } else {
    host = std::string(rest.substr(0, rest.rfind(':')));
  }
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

// What an attempt that got no HTTP answer records. The tenant's admin reads it, so for a URL
// naming a host it says only that no answer came: "could not resolve" against "internal
// address" would let them map the names of the network the service runs in. curl's own detail
// goes to the log.
std::string WebhookDispatcher::AttemptError(const Transfer& transfer, int curl_code) const {
  spdlog::info("webhook attempt failed tenant={} webhook={} delivery={} detail={}", transfer.tenant,
               transfer.webhook_id, transfer.delivery_id,
               transfer.refused_internal ? "internal address refused"
               : transfer.error[0] != '\0'
                   ? std::string(transfer.error)
                   : std::string(curl_easy_strerror(static_cast<CURLcode>(curl_code))));
  if (!HostIsAddress(transfer.url)) {
    return "no HTTP answer: the host did not resolve to a reachable public address, or did not "
           "answer in time";
  }
  if (transfer.refused_internal) {
    return "refused: the address is internal (loopback, private, link-local or metadata); not "
           "connected";
  }
  return absl::StrCat("no HTTP answer: ", curl_easy_strerror(static_cast<CURLcode>(curl_code)));
}

namespace {

// Checks the address curl is about to connect to (after DNS, so rebinding cannot dodge it).
// `refused` is the transfer's refused_internal flag.
curl_socket_t OpenPublicSocket(void* refused, curlsocktype, curl_sockaddr* address) {
  if (IsInternalAddress(&address->addr)) {
    *static_cast<bool*>(refused) = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace

WebhookDispatcher::WebhookDispatcher(db::Pool& pool, prometheus::Registry* registry,
                                     WebhookDispatcherOptions options)
    : pool_(pool), options_(options) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  if (registry != nullptr) {
    attempts_ = &prometheus::BuildCounter()
                     .Name("crm_webhook_attempts_total")
                     .Help("Webhook POST attempts by result (delivered, failed)")
                     .Register(*registry);
  }
}

WebhookDispatcher::~WebhookDispatcher() {
  Stop();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void WebhookDispatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WebhookDispatcher::Stop() {
  stopping_ = true;
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
  // Unfinished transfers stay leased and are retried when the lease ends.
  for (auto& [easy, transfer] : in_flight_) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), transfer->easy);
    curl_easy_cleanup(transfer->easy);
    curl_slist_free_all(transfer->headers);
  }
  in_flight_.clear();
}

void WebhookDispatcher::Wake() {
  woken_ = true;
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void WebhookDispatcher::Run() {
  auto* multi = static_cast<CURLM*>(multi_);
  absl::Time next_claim = absl::InfinitePast();
  while (!stopping_) {
    const int free_slots = options_.max_in_flight - static_cast<int>(in_flight_.size());
    if (free_slots > 0 && (woken_.exchange(false) || absl::Now() >= next_claim)) {
      if (absl::Status claimed = ClaimAndStart(free_slots); !claimed.ok()) {
        spdlog::warn("webhook dispatcher: {}", claimed.ToString());
      }
      next_claim = absl::Now() + (in_flight_.empty() ? options_.idle_poll : absl::Milliseconds(50));
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto it = in_flight_.find(message->easy_handle);
      if (it == in_flight_.end()) continue;
      long status = 0;
      curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      std::string error;
      if (message->data.result != CURLE_OK) {
        error = AttemptError(*it->second, message->data.result);
      } else if (status < 200 || status > 299) {
        error = absl::StrCat("HTTP ", status);
      }
      // A retry due before the next poll is claimed on time.
      next_claim = std::min(
          next_claim, Finish(*it->second, message->data.result == CURLE_OK ? status : 0, error));
      curl_multi_remove_handle(multi, it->second->easy);
      curl_easy_cleanup(it->second->easy);
      curl_slist_free_all(it->second->headers);
      in_flight_.erase(it);
    }
    // With every slot busy only a transfer's end (or Wake) matters; curl_multi_poll returns then.
    const absl::Duration wait =
        static_cast<int>(in_flight_.size()) >= options_.max_in_flight
            ? options_.idle_poll
            : std::max(absl::ZeroDuration(),
                       std::min(next_claim - absl::Now(), options_.idle_poll));
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1,
                    nullptr);
  }
}

absl::Status WebhookDispatcher::ClaimAndStart(int limit) {
  const absl::Duration lease = options_.timeout + absl::Seconds(30);
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(10)));
  // One delivery per webhook at a time (none for a webhook this replica is already sending to):
  // a slow endpoint holds at most one slot, whatever its backlog. Candidates are picked without
  // locks (DISTINCT ON cannot lock), then locked and re-checked.
  std::vector<std::string> busy;
  for (const auto& [easy, transfer] : in_flight_) busy.push_back(transfer->webhook_id);
  ASSIGN_OR_RETURN(
      db::Result claimed,
      tx.Exec("WITH candidates AS (SELECT DISTINCT ON (tenant_id, webhook_id) tenant_id, id FROM "
              "tasks.webhook_deliveries WHERE state = 'pending' AND next_attempt_time <= now() "
              "AND webhook_id <> ALL($3::uuid[]) ORDER BY tenant_id, webhook_id, "
              "next_attempt_time LIMIT $1), "
              "due AS (SELECT d.tenant_id, d.id FROM tasks.webhook_deliveries d JOIN candidates "
              "c ON c.tenant_id = d.tenant_id AND c.id = d.id WHERE d.state = 'pending' AND "
              "d.next_attempt_time <= now() FOR UPDATE OF d SKIP LOCKED) "
              "UPDATE tasks.webhook_deliveries d SET attempts = d.attempts + 1, "
              "next_attempt_time = now() + $2::bigint * interval '1 millisecond' "
              "FROM due, tasks.webhooks w WHERE d.tenant_id = due.tenant_id AND d.id = due.id "
              "AND w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.delete_time IS NULL "
              "RETURNING d.tenant_id, d.id, d.attempts, d.body, w.url, w.secret, d.webhook_id",
              {absl::StrCat(limit), absl::StrCat(absl::ToInt64Milliseconds(lease)),
               db::ToArrayLiteral(busy)}));
  RETURN_IF_ERROR(tx.Commit());
  auto* multi = static_cast<CURLM*>(multi_);
  for (int i = 0; i < claimed.rows(); ++i) {
    auto transfer = std::make_unique<Transfer>();
    transfer->tenant = claimed.String(i, 0);
    transfer->delivery_id = claimed.String(i, 1);
    transfer->attempt = static_cast<int>(claimed.Int(i, 2));
    transfer->body = claimed.String(i, 3);
    transfer->url = claimed.String(i, 4);
    transfer->webhook_id = claimed.String(i, 6);
    transfer->started = absl::Now();
    const std::string signature = WebhookSignature(
        claimed.Text(i, 5), absl::ToUnixSeconds(transfer->started), transfer->body);
    for (const std::string& header :
         {std::string("Content-Type: application/json"),
          absl::StrCat("X-CRM-Signature: ", signature),
          absl::StrCat("X-CRM-Delivery: ", transfer->delivery_id),
          absl::StrCat("X-CRM-Attempt: ", transfer->attempt),
          std::string("X-CRM-Event: notification.created"), std::string("Expect:")}) {
      transfer->headers = curl_slist_append(transfer->headers, header.c_str());
    }
    CURL* easy = curl_easy_init();
    if (easy == nullptr) {
      curl_slist_free_all(transfer->headers);
      return absl::ResourceExhaustedError("curl_easy_init failed; the lease retries it");
    }
    transfer->easy = easy;
    curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(transfer->body.size()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "crm-webhooks/1");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, DiscardBody);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");  // straight to the receiver, never via a proxy
    if (!options_.allow_private_addresses) {
      curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, OpenPublicSocket);
      curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &transfer->refused_internal);
    }
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
      curl_easy_cleanup(easy);
      curl_slist_free_all(transfer->headers);
      return absl::ResourceExhaustedError("curl_multi_add_handle failed; the lease retries it");
    }
    in_flight_[easy] = std::move(transfer);
  }
  return absl::OkStatus();
}

absl::Time WebhookDispatcher::Finish(Transfer& transfer, long http_status,
                                     const std::string& error) {
  const bool delivered = error.empty();
  const absl::Time now = absl::Now();
  std::string state = "succeeded";
  absl::Duration backoff = absl::ZeroDuration();
  if (!delivered) {
    state = transfer.attempt >= options_.max_attempts ? "failed" : "pending";
    backoff =
        std::min(options_.max_backoff,
                 options_.initial_backoff * (int64_t{1} << std::min(transfer.attempt - 1, 30)));
  }
  if (attempts_ != nullptr) {
    attempts_->Add({{"result", delivered ? "delivered" : "failed"}}).Increment();
  }
  auto record = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(db::Transaction tx,
                     db::Transaction::Begin(pool_, transfer.tenant, now + absl::Seconds(10)));
    tx.Queue(absl::StrCat("INSERT INTO tasks.webhook_attempts (tenant_id, delivery_id, attempt, "
                          "attempt_time, http_status, error, duration_ms) VALUES ($1, $2::uuid, "
                          "$3, ",
                          db::TimeParam(4),
                          ", $5, $6, $7) ON CONFLICT (tenant_id, delivery_id, attempt) DO NOTHING"),
             {transfer.tenant, transfer.delivery_id, absl::StrCat(transfer.attempt),
              db::MicrosParam(transfer.started), absl::StrCat(http_status), error.substr(0, 500),
              absl::StrCat(absl::ToInt64Milliseconds(now - transfer.started))});
    // Fenced on the attempt: a replica whose lease ran out does not overwrite a newer attempt.
    tx.Queue(
        "UPDATE tasks.webhook_deliveries SET state = $3, next_attempt_time = now() + "
        "$4::bigint * interval '1 millisecond' WHERE tenant_id = $1 AND id = $2::uuid AND "
        "attempts = $5 AND state = 'pending'",
        {transfer.tenant, transfer.delivery_id, state,
         absl::StrCat(absl::ToInt64Milliseconds(backoff)), absl::StrCat(transfer.attempt)});
    return tx.Commit();
  };
  if (absl::Status recorded = record(); !recorded.ok()) {
    // The lease runs out and another attempt is made: at least once, never lost.
    spdlog::warn("webhook delivery {}: recording attempt {} failed: {}", transfer.delivery_id,
                 transfer.attempt, recorded.ToString());
  }
  if (!delivered) {
    spdlog::info("webhook delivery {} attempt {} to {} failed: {}", transfer.delivery_id,
                 transfer.attempt, transfer.url, error);
  }
  return state == "pending" ? now + backoff : absl::InfiniteFuture();
}

}  // namespace crm::tasks

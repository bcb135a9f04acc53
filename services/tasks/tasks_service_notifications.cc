// The notification and webhook RPCs of TasksService, and the live watch.
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/tasks/service_support.h"
#include "services/tasks/tasks_service.h"

namespace crm::tasks {
namespace {

// A page token holding the last id returned, pinned to the query it came from.
absl::StatusOr<std::string> BeforeId(const std::string& token, const std::string& fingerprint) {
  if (token.empty()) return std::string();
  ASSIGN_OR_RETURN(api::PageCursor cursor, api::DecodePageToken(token, fingerprint));
  if (!ids::IsCanonicalUuid(cursor.last_key)) {
    return api::InvalidField("page_token", "malformed page token");
  }
  return cursor.last_key;
}

absl::Status ValidateWebhookUrl(const std::string& url) {
  if (url.empty()) return api::InvalidField("webhook.url", "required");
  if (url.size() > 2000) return api::InvalidField("webhook.url", "up to 2,000 characters");
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return api::InvalidField("webhook.url", "must start with https:// or http://");
  }
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.find('@') != absl::string_view::npos) {
    return api::InvalidField("webhook.url", "needs a host and no user info");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return api::InvalidField("webhook.url", "no spaces or control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status TasksService::ListNotifications(grpc::ServerContext* context,
                                             const v1::ListNotificationsRequest* request,
                                             v1::ListNotificationsResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    const std::string fingerprint = api::QueryFingerprint(
        absl::StrCat("notifications\x1f", caller.user, "\x1f", request->unread_only()));
    ASSIGN_OR_RETURN(std::string before, BeforeId(request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto page,
                     notifications_.List(caller.tenant, caller.user, request->unread_only(), before,
                                         page_size, server::DeadlineOf(*context)));
    if (page.more && !page.items.empty()) {
      response->set_next_page_token(api::EncodePageToken(
          {page.items.back().name().substr(std::string("notifications/").size()), fingerprint}));
    }
    for (auto& n : page.items) *response->add_notifications() = std::move(n);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status TasksService::MarkNotificationRead(grpc::ServerContext* context,
                                                const v1::MarkNotificationReadRequest* request,
                                                v1::Notification* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), "notifications/", "name"));
    ASSIGN_OR_RETURN(*response, notifications_.MarkRead(caller.tenant, caller.user, id,
                                                        server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status TasksService::WatchNotifications(grpc::ServerContext* context,
                                              const v1::WatchNotificationsRequest*,
                                              grpc::ServerWriter<v1::Notification>* writer) {
  return api::ToGrpcStatus(Watch(*context, *writer));
}

// Sends the caller's notifications committed after the watch began. Each look reads the last
// `watch_window` of them and skips those already known, so a notification whose transaction
// commits late is still sent, and none is sent twice.
absl::Status TasksService::Watch(grpc::ServerContext& context,
                                 grpc::ServerWriter<v1::Notification>& writer) {
  ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(context));
  ASSIGN_OR_RETURN(server::StreamLimiter::Lease lease,
                   streams_.Acquire(caller.tenant, caller.user));
  auto query_deadline = [] { return absl::Now() + absl::Seconds(10); };
  std::map<std::string, absl::Time> known;  // name -> create time, within the window
  auto look = [&](bool send) -> absl::Status {
    const absl::Time now = absl::Now();
    ASSIGN_OR_RETURN(auto recent,
                     notifications_.CreatedWithin(caller.tenant, caller.user, options_.watch_window,
                                                  query_deadline()));
    for (const v1::Notification& n : recent) {
      if (!known.emplace(n.name(), absl::FromUnixSeconds(n.create_time().seconds())).second) {
        continue;
      }
      if (send && !writer.Write(n)) return absl::CancelledError("the watcher went away");
    }
    for (auto it = known.begin(); it != known.end();) {
      it = it->second < now - 2 * options_.watch_window ? known.erase(it) : std::next(it);
    }
    return absl::OkStatus();
  };
  uint64_t generation = notifier_.generation();
  RETURN_IF_ERROR(look(/*send=*/false));  // what exists now is the inbox's, not the watch's
  // Tell the client the watch is live (headers), so it knows later notifications will come.
  writer.SendInitialMetadata();
  while (!context.IsCancelled()) {
    if (shutting_down_) return absl::UnavailableError("server shutting down; watch again");
    generation = notifier_.WaitForChange(generation, options_.watch_poll);
    if (context.IsCancelled()) break;
    RETURN_IF_ERROR(look(/*send=*/true));
  }
  return absl::OkStatus();
}

grpc::Status TasksService::CreateWebhook(grpc::ServerContext* context,
                                         const v1::CreateWebhookRequest* request,
                                         v1::Webhook* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireAdmin(caller));
    RETURN_IF_ERROR(ValidateWebhookUrl(request->webhook().url()));
    if (request->webhook().description().size() > 500) {
      return api::InvalidField("webhook.description", "up to 500 characters");
    }
    v1::Webhook webhook;
    webhook.set_url(request->webhook().url());
    webhook.set_description(request->webhook().description());
    ASSIGN_OR_RETURN(*response, notifications_.CreateWebhook(caller.tenant, webhook,
                                                             server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status TasksService::ListWebhooks(grpc::ServerContext* context,
                                        const v1::ListWebhooksRequest*,
                                        v1::ListWebhooksResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireAdmin(caller));
    ASSIGN_OR_RETURN(auto webhooks,
                     notifications_.ListWebhooks(caller.tenant, server::DeadlineOf(*context)));
    for (auto& w : webhooks) *response->add_webhooks() = std::move(w);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status TasksService::DeleteWebhook(grpc::ServerContext* context,
                                         const v1::DeleteWebhookRequest* request,
                                         google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireAdmin(caller));
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), "webhooks/", "name"));
    return notifications_.DeleteWebhook(caller.tenant, id, server::DeadlineOf(*context));
  };
  return api::ToGrpcStatus(run());
}

grpc::Status TasksService::ListWebhookDeliveries(grpc::ServerContext* context,
                                                 const v1::ListWebhookDeliveriesRequest* request,
                                                 v1::ListWebhookDeliveriesResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireAdmin(caller));
    ASSIGN_OR_RETURN(std::string webhook, ParseId(request->parent(), "webhooks/", "parent"));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    const std::string fingerprint =
        api::QueryFingerprint(absl::StrCat("deliveries\x1f", request->parent()));
    ASSIGN_OR_RETURN(std::string before, BeforeId(request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto page,
                     notifications_.ListDeliveries(caller.tenant, webhook, before, page_size,
                                                   server::DeadlineOf(*context)));
    if (page.more && !page.items.empty()) {
      const std::string& last = page.items.back().name();
      response->set_next_page_token(
          api::EncodePageToken({last.substr(last.rfind('/') + 1), fingerprint}));
    }
    for (auto& d : page.items) *response->add_deliveries() = std::move(d);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

}  // namespace crm::tasks

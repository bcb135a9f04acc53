// How webhook receivers authenticate our POSTs: header
//   X-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// The timestamp inside the signed text lets receivers refuse replays of old deliveries.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace crm::tasks {

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// The X-CRM-Signature header value for `body` sent at `unix_seconds`.
std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

// A new random signing secret ("whsec_" + 32 random bytes in hex).
std::string NewWebhookSecret();

}  // namespace crm::tasks

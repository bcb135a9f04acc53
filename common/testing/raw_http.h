// A plain TCP connection to a local HTTP server, for tests that send what no HTTP library would:
// any byte anywhere, half a request, a request whose answer is never read.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::testing {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;  // by Content-Length; empty for a streamed (chunked) answer
  bool chunked = false;
  bool closes = false;  // "Connection: close"
};

class RawHttp final {
 public:
  // Connects to 127.0.0.1:port. With `small_receive_buffer`, a client that never reads stalls
  // the server's writes after a few kilobytes.
  static absl::StatusOr<RawHttp> Connect(int port, bool small_receive_buffer = false);
  RawHttp(RawHttp&& other) noexcept;
  RawHttp& operator=(RawHttp&& other) noexcept;
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;
  ~RawHttp();

  absl::Status Send(std::string_view bytes);
  // One answer: the head, then as much body as Content-Length says (not a chunked body).
  absl::StatusOr<RawResponse> Read(absl::Duration timeout);
  // Whether the server closed the connection within `timeout` (reading and dropping bytes).
  bool ClosedWithin(absl::Duration timeout);
  int fd() const { return fd_; }
  // What was read but not yet returned as (part of) an answer.
  const std::string& pending() const { return buffer_; }

 private:
  explicit RawHttp(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffer_;  // bytes read past the last answer
};

}  // namespace crm::testing

#include "common/testing/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace crm::testing {

absl::StatusOr<RawHttp> RawHttp::Connect(int port, bool small_receive_buffer) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  if (small_receive_buffer) {
    const int size = 4096;  // before connect, so the window the server sees is small too
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect: ", std::strerror(error)));
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return RawHttp(fd);
}

RawHttp::RawHttp(RawHttp&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

RawHttp& RawHttp::operator=(RawHttp&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

RawHttp::~RawHttp() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RawHttp::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

namespace {

// Reads what is there (waiting up to the deadline for something); 0 at the peer's close.
ssize_t ReadSome(int fd, std::string& into, absl::Time deadline) {
  pollfd pfd{fd, POLLIN, 0};
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
  if (poll(&pfd, 1, static_cast<int>(ms)) <= 0) return -2;  // timed out
  char chunk[16384];
  const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
  if (n > 0) into.append(chunk, static_cast<size_t>(n));
  return n;
}

}  // namespace

absl::StatusOr<RawResponse> RawHttp::Read(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ReadSome(fd_, buffer_, deadline);
    if (n == -2) return absl::DeadlineExceededError("no complete answer in time");
    if (n <= 0) return absl::UnavailableError("the server closed the connection without answer");
  }
  RawResponse response;
  response.head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  std::vector<std::string> lines = absl::StrSplit(response.head, "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/1.") ||
      !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::DataLossError(absl::StrCat("not an HTTP status line: ", lines[0]));
  }
  size_t length = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string lower = absl::AsciiStrToLower(lines[i]);
    if (absl::StartsWith(lower, "content-length:")) {
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(lower.substr(15)), &length)) {
        return absl::DataLossError("bad Content-Length");
      }
    } else if (absl::StartsWith(lower, "transfer-encoding:") &&
               absl::StrContains(lower, "chunked")) {
      response.chunked = true;
    } else if (absl::StartsWith(lower, "connection:") && absl::StrContains(lower, "close")) {
      response.closes = true;
    }
  }
  if (response.chunked) return response;
  while (buffer_.size() < length) {
    const ssize_t n = ReadSome(fd_, buffer_, deadline);
    if (n == -2) return absl::DeadlineExceededError("the body did not arrive in time");
    if (n <= 0) return absl::DataLossError("the connection closed inside the body");
  }
  response.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return response;
}

bool RawHttp::ClosedWithin(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::string dropped;
    const ssize_t n = ReadSome(fd_, dropped, deadline);
    if (n == 0 || n == -1) return true;  // closed (or reset)
    if (n == -2) return false;
  }
}

}  // namespace crm::testing

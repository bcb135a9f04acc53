#include "common/ids/uuid.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"

namespace crm::ids {

std::string NewUuidV7() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // OpenSSL's CSPRNG does not fail once seeded; if it ever did, ids must still be unique
    // enough, so fall back to a process-local counter mixed with time below.
    static std::atomic<uint64_t> counter{0};
    uint64_t c = counter.fetch_add(1) ^ static_cast<uint64_t>(absl::GetCurrentTimeNanos());
    for (int i = 8; i < 16; ++i) b[i] = static_cast<unsigned char>(c >> ((i - 8) * 8));
  }
  // RFC 9562 6.2 method 1: a 12-bit counter after the millisecond timestamp, so ids made by one
  // process are strictly increasing even within a millisecond (creation order is id order).
  static std::atomic<uint64_t> last{0};
  const uint64_t now = static_cast<uint64_t>(absl::GetCurrentTimeNanos() / 1000000) << 12;
  uint64_t previous = last.load(std::memory_order_relaxed);
  uint64_t next = 0;
  do {
    next = std::max(now, previous + 1);
  } while (!last.compare_exchange_weak(previous, next, std::memory_order_relaxed));
  const uint64_t ms = next >> 12;
  const uint64_t sequence = next & 0xfff;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> ((5 - i) * 8));
  b[6] = static_cast<unsigned char>(0x70 | (sequence >> 8));  // version 7 + counter
  b[7] = static_cast<unsigned char>(sequence & 0xff);
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

bool IsCanonicalUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace crm::ids

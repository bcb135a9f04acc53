#include "common/api/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/ids/uuid.h"

namespace crm::api {
namespace {
constexpr absl::string_view kVersion = "p1";
}  // namespace

std::string EncodePageToken(const PageCursor& cursor) {
  std::string raw = absl::StrCat(kVersion, "\n", cursor.fingerprint, "\n", cursor.last_key);
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  return out;
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token,
                                           absl::string_view expected_fingerprint) {
  std::string raw;
  if (token.size() > 4096 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return InvalidField("page_token", "malformed page token");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('\n', 2));
  if (parts.size() != 3 || parts[0] != kVersion) {
    return InvalidField("page_token", "malformed page token");
  }
  if (parts[1] != expected_fingerprint) {
    return InvalidField("page_token",
                        "page token belongs to a different query (filter or order changed)");
  }
  return PageCursor{parts[2], parts[1]};
}

std::string QueryFingerprint(absl::string_view query) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : query) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", hash);
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested > max_size) {
    return InvalidField("page_size", absl::StrCat("must be at most ", max_size));
  }
  return requested == 0 ? default_size : requested;
}

absl::StatusOr<ListPosition> DecodeListPosition(absl::string_view token,
                                                absl::string_view fingerprint, bool keyset) {
  ListPosition position;
  if (token.empty()) return position;
  absl::StatusOr<PageCursor> cursor = DecodePageToken(token, fingerprint);
  if (!cursor.ok()) return cursor.status();
  const bool valid = keyset ? ids::IsCanonicalUuid(cursor->last_key)
                            : absl::SimpleAtoi(cursor->last_key, &position.offset) &&
                                  position.offset >= 0 && position.offset <= 100000;
  if (!valid) return InvalidField("page_token", "malformed page token");
  if (keyset) position.after_id = cursor->last_key;
  return position;
}

std::string NextListPageToken(bool keyset, const std::string& last_id, const ListPosition& at,
                              int page_size, const std::string& fingerprint) {
  return EncodePageToken({keyset ? last_id : absl::StrCat(at.offset + page_size), fingerprint});
}

absl::StatusOr<OffsetPage> StartOffsetPage(int page_size, absl::string_view page_token,
                                           absl::string_view fingerprint) {
  OffsetPage page;
  ASSIGN_OR_RETURN(page.size, PageSize(page_size));
  ASSIGN_OR_RETURN(ListPosition at, DecodeListPosition(page_token, fingerprint, /*keyset=*/false));
  page.offset = at.offset;
  return page;
}

}  // namespace crm::api

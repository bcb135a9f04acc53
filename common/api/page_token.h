// Opaque page tokens for keyset pagination (AIP-158).
//
// A token carries the sort key of the last row returned and a fingerprint of the request
// (filter, ordering), so a token is refused when replayed with a different query instead of
// silently returning the wrong page. Keyset paging neither skips nor repeats rows that existed
// when paging began, however many rows are inserted meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

struct PageCursor {
  std::string last_key;     // e.g. the last row's id
  std::string fingerprint;  // of the query that produced the page
};

std::string EncodePageToken(const PageCursor& cursor);

// A stable fingerprint of a query's text (filter, ordering) for page tokens: the same in every
// replica and build, unlike std::hash or absl::Hash (FNV-1a, 64 bit, hex).
std::string QueryFingerprint(absl::string_view query);
// INVALID_ARGUMENT (field "page_token") for malformed tokens or a different query fingerprint.
absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token,
                                           absl::string_view expected_fingerprint);

// Where a List call resumes: after an id (keyset paging, for creation order, stable under
// inserts) or at an offset (for other orders).
struct ListPosition {
  std::string after_id;
  int64_t offset = 0;
};
// The position in `token` ("" for the first page); INVALID_ARGUMENT on field "page_token".
absl::StatusOr<ListPosition> DecodeListPosition(absl::string_view token,
                                                absl::string_view fingerprint, bool keyset);
// The token of the page after one that started at `at` and ended with id `last_id`.
std::string NextListPageToken(bool keyset, const std::string& last_id, const ListPosition& at,
                              int page_size, const std::string& fingerprint);

// A page of a list read by offset (lists ordered by something other than creation): where it
// starts, and how many rows to read (one more than the page, to learn whether another follows).
struct OffsetPage {
  int64_t offset = 0;
  int size = 50;
  int read_limit() const { return size + 1; }
};
// From a request's page_size and page_token; INVALID_ARGUMENT naming the field at fault.
absl::StatusOr<OffsetPage> StartOffsetPage(int page_size, absl::string_view page_token,
                                           absl::string_view fingerprint);
// Trims `rows` (read with read_limit()) to the page; returns the next page's token, or "" when
// this page is the last.
template <typename T>
std::string FinishOffsetPage(std::vector<T>& rows, const OffsetPage& page,
                             const std::string& fingerprint) {
  if (static_cast<int>(rows.size()) <= page.size) return "";
  rows.resize(page.size);
  return EncodePageToken({std::to_string(page.offset + page.size), fingerprint});
}

// Clamps a requested page size: 0 -> default, above max -> INVALID_ARGUMENT, negative -> error.
absl::StatusOr<int> PageSize(int requested, int default_size = 50, int max_size = 1000);

}  // namespace crm::api

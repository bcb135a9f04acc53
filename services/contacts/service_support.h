// Small helpers shared by the contacts service's RPC handlers: paging.
#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/ids/uuid.h"
#include "services/contacts/contacts_store.h"

namespace crm::contacts {

// Page size and keyset cursor of a List call; the token must come from the same query.
inline absl::StatusOr<Page> PageFrom(int page_size, const std::string& page_token,
                                     absl::string_view fingerprint, int max_size = 1000) {
  Page page;
  ASSIGN_OR_RETURN(page.size, api::PageSize(page_size, 50, max_size));
  if (!page_token.empty()) {
    ASSIGN_OR_RETURN(api::PageCursor cursor, api::DecodePageToken(page_token, fingerprint));
    if (!ids::IsCanonicalUuid(cursor.last_key)) {
      return api::InvalidField("page_token", "malformed page token");
    }
    page.after_id = cursor.last_key;
  }
  return page;
}

// What a page token of a List call is bound to: its filter and order (tokens of the filter alone
// stay valid for the creation order they were made in).
inline std::string ListFingerprint(const std::string& filter, const std::string& order_by) {
  return api::QueryFingerprint(order_by.empty() ? filter : absl::StrCat(filter, "\x1f", order_by));
}

// Page size and position of a List call in `order` (trusted SQL ending in id): creation order
// pages by id (stable under inserts), other orders by offset.
inline absl::StatusOr<Page> OrderedPageFrom(int page_size, const std::string& page_token,
                                            absl::string_view fingerprint, std::string order) {
  Page page;
  ASSIGN_OR_RETURN(page.size, api::PageSize(page_size, 50, 1000));
  const bool keyset = order == "id";
  ASSIGN_OR_RETURN(api::ListPosition at, api::DecodeListPosition(page_token, fingerprint, keyset));
  page.after_id = at.after_id;
  page.offset = at.offset;
  page.order = std::move(order);
  return page;
}

// The token for the page after `result` read at `page` ("" on the last page).
template <typename T>
std::string NextOrderedPageToken(const PageResult<T>& result, const Page& page,
                                 const std::string& fingerprint) {
  if (!result.more || result.items.empty()) return "";
  const std::string& name = result.items.back().name();
  return api::NextListPageToken(page.order == "id", name.substr(name.find('/') + 1),
                                {page.after_id, page.offset}, page.size, fingerprint);
}

// The token for the page after `result` ("" on the last page), keyed by the last item's id.
template <typename T>
std::string NextPageToken(const PageResult<T>& result, absl::string_view fingerprint) {
  if (!result.more || result.items.empty()) return "";
  const std::string& name = result.items.back().name();
  return api::EncodePageToken({name.substr(name.find('/') + 1), std::string(fingerprint)});
}

}  // namespace crm::contacts

// Small helpers every service's store uses: timestamps the service chooses, bound exactly;
// version etags; one-statement transactions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/status_macros.h"
#include "common/db/transaction.h"

namespace crm::db {

// SQL for parameter $n holding epoch microseconds as a timestamptz (exact, unlike float seconds).
inline std::string TimeParam(int n) {
  return absl::StrCat("('epoch'::timestamptz + $", n, "::bigint * interval '1 microsecond')");
}

// SQL selecting a timestamptz column as epoch microseconds.
inline std::string MicrosOf(absl::string_view column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}

// Now, truncated to PostgreSQL's microsecond precision so stored and returned values agree.
inline absl::Time NowMicros() { return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now())); }

inline void SetTimestamp(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

inline void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  SetTimestamp(ts, absl::ToUnixMicros(t));
}

inline std::string MicrosParam(absl::Time t) { return absl::StrCat(absl::ToUnixMicros(t)); }

// Etags are the row version; the next one after a write.
inline std::string NextEtag(const std::string& etag) {
  int64_t version = 0;
  (void)absl::SimpleAtoi(etag, &version);
  return absl::StrCat(version + 1);
}

// One statement in its own transaction, in a single round trip.
inline absl::StatusOr<Result> RunOnce(Pool& pool, const std::string& tenant, absl::string_view sql,
                                      const Params& params, absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool, tenant, deadline));
  const int index = tx.Queue(sql, params);
  RETURN_IF_ERROR(tx.Commit());
  return tx.ResultOf(index);
}

// RunOnce for a keyset page that an index returns in order (`... id > $cursor ORDER BY id LIMIT n`
// on the primary key): sorting is made a last resort for the statement, so the plan reads the
// index and stops after the page whatever the statistics say. A tenant filled since the last
// ANALYZE is estimated at a row or two, and the planner then preferred reading every row of the
// tenant through another index and sorting them (26,000 contacts: 58 lists/s instead of 2,794).
// Not for filtered pages: there an index on the filter plus a sort of its few rows is the plan.
inline absl::StatusOr<Result> RunOnceInIndexOrder(Pool& pool, const std::string& tenant,
                                                  absl::string_view sql, const Params& params,
                                                  absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool, tenant, deadline));
  tx.Queue("SET LOCAL enable_sort = off");
  const int index = tx.Queue(sql, params);
  RETURN_IF_ERROR(tx.Commit());
  return tx.ResultOf(index);
}

}  // namespace crm::db

// SQL of segments (saved contact filters) and of the company names messages and exports show.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/events/outbox.h"
#include "crm/contacts/v1/segment.pb.h"
#include "services/contacts/contacts_store.h"

namespace crm::contacts {

class SegmentStore final {
 public:
  SegmentStore(db::Pool& pool, events::Outbox& outbox) : pool_(pool), outbox_(outbox) {}

  absl::StatusOr<v1::Segment> Create(const std::string& tenant, const v1::Segment& segment,
                                     const std::string& actor, const std::string& request_id,
                                     absl::Time deadline);
  absl::StatusOr<v1::Segment> Get(const std::string& tenant, const std::string& id,
                                  absl::Time deadline);
  absl::StatusOr<PageResult<v1::Segment>> List(const std::string& tenant, const Page& page,
                                               absl::Time deadline);
  absl::StatusOr<v1::Segment> Update(const std::string& tenant, const std::string& id,
                                     const std::string& actor, const Mutation<v1::Segment>& mutate,
                                     absl::Time deadline);
  absl::Status Delete(const std::string& tenant, const std::string& id, const std::string& actor,
                      const std::function<absl::Status(const v1::Segment&)>& check,
                      absl::Time deadline);

  // Display names of the given companies ("companies/{id}" -> name), for messages and exports.
  absl::StatusOr<std::map<std::string, std::string>> CompanyNames(
      const std::string& tenant, const std::vector<std::string>& company_names,
      absl::Time deadline);

 private:
  db::Pool& pool_;
  events::Outbox& outbox_;
};

}  // namespace crm::contacts

// The pipeline service's own objects on the shared runtime (common/server/service_runtime.h).
// main() and the tests wire the service with this one function; only the options differ.
#pragma once

#include <memory>
#include <string>

#include "common/events/consumer.h"
#include "common/events/event_router.h"
#include "common/fields/definition_store.h"
#include "common/server/service_runtime.h"
#include "services/pipeline/contacts_client.h"
#include "services/pipeline/pipeline_service.h"
#include "services/pipeline/pipeline_store.h"
#include "services/pipeline/product_store.h"
#include "services/pipeline/renewal_job.h"

namespace crm::pipeline {

struct PipelineWiring {
  std::string contacts_address;  // host:port; deal references are checked there
  bool follow_contacts = true;   // apply the contacts service's events (merges, deletions)
  PipelineServiceOptions service;
  RenewalJobOptions renewals;
};

struct PipelineParts final : server::ServiceParts {
  PipelineParts(server::ServiceContext& c, const PipelineWiring& wiring);
  void Start() override;
  void Stop() override;

  fields::DefinitionStore custom_fields;  // first: the store frees unique values it holds
  ProductStore products;
  PipelineStore store;
  ContactsClient contacts;
  PipelineService service;
  RenewalJob renewals;
  std::unique_ptr<events::EventConsumer> contacts_events;  // null unless following contacts
};

// Builds PipelineParts and adds the service to the server.
server::WireService WirePipeline(PipelineWiring wiring);

}  // namespace crm::pipeline

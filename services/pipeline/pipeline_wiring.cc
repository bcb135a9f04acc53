#include "services/pipeline/pipeline_wiring.h"

#include "services/pipeline/contacts_follower.h"

namespace crm::pipeline {

PipelineParts::PipelineParts(server::ServiceContext& c, const PipelineWiring& wiring)
    : custom_fields(c.pool, c.outbox, "pipeline",
                    {{common::v1::OBJECT_TYPE_DEAL, "pipeline.deals"},
                     {common::v1::OBJECT_TYPE_PRODUCT, "pipeline.products"}}),
      products(c.pool, c.outbox),
      store(c.pool, c.outbox, products, custom_fields.unique()),
      contacts(wiring.contacts_address),
      service(store, products, contacts, custom_fields, c.authenticator, c.executor,
              wiring.service),
      renewals(c.pool, store, products, &c.server.registry(), wiring.renewals) {
  if (wiring.follow_contacts) {
    contacts_events = server::FollowEvents(c, "pipeline.contacts", wiring.contacts_address,
                                           ContactsEvents(store));
  }
}

void PipelineParts::Start() {
  renewals.Start();
  if (contacts_events != nullptr) contacts_events->Start();
}

void PipelineParts::Stop() {
  if (contacts_events != nullptr) contacts_events->Stop();
  renewals.Stop();
}

server::WireService WirePipeline(PipelineWiring wiring) {
  return server::WireParts<PipelineParts>(std::move(wiring));
}

}  // namespace crm::pipeline

#include "services/pipeline/pipeline_wiring.h"

#include "services/pipeline/contacts_follower.h"

namespace crm::pipeline {

PipelineParts::PipelineParts(server::ServiceContext& c, const PipelineWiring& wiring)
    : products(c.pool, c.outbox),
      store(c.pool, c.outbox, products),
      contacts(wiring.contacts_address),
      service(store, products, contacts, c.authenticator, c.executor, wiring.service),
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

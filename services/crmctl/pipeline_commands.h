// crmctl commands of the pipeline service: pipelines list, deals create/list/move/history.
#pragma once

#include <string>
#include <vector>

#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"

namespace crm::ctl {

struct PipelineCommandOptions {
  std::string token;
  bool json = false;
  bool colour = false;
  int timeout_seconds = 10;
  // deals create
  std::string display_name, contact, company, currency;
  int64_t amount_minor = 0;
  // deals move
  std::string stage, lost_reason;
  bool reopen = false;
  std::string filter;
};

int Pipelines(crm::pipeline::v1::PipelineService::Stub& stub, const std::vector<char*>& args,
              const PipelineCommandOptions& options);
int Deals(crm::pipeline::v1::PipelineService::Stub& stub, const std::vector<char*>& args,
          const PipelineCommandOptions& options);

}  // namespace crm::ctl

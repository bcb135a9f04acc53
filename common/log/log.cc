#include "common/log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace crm::log {

void Init(absl::string_view service, absl::string_view level) {
  auto logger = spdlog::stderr_logger_mt(std::string(service));
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v", spdlog::pattern_time_type::utc));
  logger->set_level(spdlog::level::from_str(std::string(level)));
  // Each line is flushed at once so a crash or SIGKILL leaves nothing half-logged in a buffer.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace crm::log

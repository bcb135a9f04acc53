// Standard Prometheus process metrics read from /proc/self on every scrape:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds.
#pragma once

#include <prometheus/collectable.h>

#include <memory>

namespace crm::server {

std::shared_ptr<prometheus::Collectable> NewProcessMetrics();

}  // namespace crm::server

#include "common/server/process_metrics.h"

#include <dirent.h>
#include <prometheus/metric_family.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crm::server {
namespace {

prometheus::MetricFamily Gauge(const char* name, const char* help, double value,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

int CountOpenFds() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    --count;  // the directory stream's own descriptor
  }
  return count;
}

double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
  }
  return 0;
}

class ProcessMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream file("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // Fields after the parenthesised command name, which may itself contain spaces.
    const size_t close = content.rfind(')');
    if (close == std::string::npos) return out;
    std::istringstream rest(content.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; rest >> s;) f.push_back(s);
    if (f.size() < 22) return out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // f[0] is field 3 (state): utime=14, stime=15, starttime=22, vsize=23, rss=24.
    const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    const double start = BootTimeSeconds() + std::stod(f[19]) / ticks;
    out.push_back(Gauge("process_cpu_seconds_total", "Total user and system CPU time in seconds.",
                        cpu, prometheus::MetricType::Counter));
    out.push_back(
        Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20])));
    out.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                        std::stod(f[21]) * page));
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.", start));
    out.push_back(Gauge("process_open_fds", "Number of open file descriptors.", CountOpenFds()));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      out.push_back(Gauge("process_max_fds", "Maximum number of open file descriptors.",
                          static_cast<double>(limit.rlim_cur)));
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewProcessMetrics() {
  return std::make_shared<ProcessMetrics>();
}

}  // namespace crm::server

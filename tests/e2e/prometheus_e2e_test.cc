// A real Prometheus (Debian's) scrapes every process of a running stack: each target reports
// `up`, and every /metrics page passes `promtool check metrics`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/testing/http_client.h"
#include "tests/e2e/stack.h"

namespace crm {
namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

TEST(PrometheusE2eTest, ARealPrometheusScrapesEveryProcessAndEveryPagePassesPromtool) {
  auto stack = testing::Stack::Start();
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::vector<std::pair<std::string, int>> targets = {
      {"contacts", (*stack)->contacts().metrics_port()},
      {"pipeline", (*stack)->pipeline().metrics_port()},
      {"tasks", (*stack)->tasks().metrics_port()},
      {"reporting", (*stack)->reporting().metrics_port()},
      {"gateway", (*stack)->gateway_port()}};

  // Some traffic, so the query-latency metrics have samples.
  auto listed = testing::HttpCall(
      "GET", (*stack)->url("/v1/contacts"),
      {{"Authorization", "Bearer " + testing::MintToken("acme", "pam", {"rep"})}});
  ASSERT_TRUE(listed.ok());
  for (const auto& [service, port] : targets) {
    auto page = testing::HttpCall("GET", absl::StrCat("http://127.0.0.1:", port, "/metrics"));
    ASSERT_TRUE(page.ok()) << service;
    if (service != "gateway") {
      EXPECT_THAT(page->body, ::testing::HasSubstr("crm_db_commit_duration_seconds_bucket"))
          << service;
    }
    if (service == "contacts") {
      EXPECT_THAT(page->body, ::testing::HasSubstr("crm_db_statement_duration_seconds_bucket{"));
    }
    const std::string file = absl::StrCat(::testing::TempDir(), "/", service, ".metrics");
    std::ofstream(file) << page->body;
    EXPECT_EQ(std::system(absl::StrCat("promtool check metrics < ", file).c_str()), 0) << service;
  }

  const std::string dir = absl::StrCat(::testing::TempDir(), "/prometheus-", getpid());
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir, "/data").c_str()), 0);
  {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: crm\n"
              "    static_configs:\n";
    for (const auto& [service, port] : targets) {
      config << "      - targets: ['127.0.0.1:" << port
             << "']\n        labels: {service: " << service << "}\n";
    }
  }
  const int port = FreePort();
  const pid_t prometheus = fork();
  ASSERT_GE(prometheus, 0);
  if (prometheus == 0) {
    const std::string config = "--config.file=" + dir + "/prometheus.yml";
    const std::string storage = "--storage.tsdb.path=" + dir + "/data";
    const std::string listen = absl::StrCat("--web.listen-address=127.0.0.1:", port);
    execl("/usr/bin/prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
          "--log.level=warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  int up = 0;
  std::string last;
  for (int i = 0; i < 150 && up < static_cast<int>(targets.size()); ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    auto reply =
        testing::HttpCall("GET", absl::StrCat("http://127.0.0.1:", port, "/api/v1/targets"));
    if (!reply.ok() || reply->status != 200) continue;
    last = reply->body;
    const auto doc = nlohmann::json::parse(reply->body, nullptr, false);
    if (doc.is_discarded()) continue;
    up = 0;
    for (const auto& target : doc["data"]["activeTargets"]) up += target["health"] == "up";
  }
  kill(prometheus, SIGTERM);
  int status = 0;
  waitpid(prometheus, &status, 0);
  std::system(absl::StrCat("rm -rf ", dir).c_str());
  EXPECT_EQ(up, static_cast<int>(targets.size())) << last;
}

}  // namespace
}  // namespace crm

#include "services/crmctl/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace crm::ctl {

Progress::Progress(std::string unit) : unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO)) {}

std::string Progress::Render(int64_t done, int64_t total, double rate, absl::string_view unit) {
  constexpr int kWidth = 30;
  const double fraction = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar =
      absl::StrCat("[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "]");
  std::string eta = "--";
  if (rate > 0 && total > done) {
    eta = absl::StrFormat("%.0fs", static_cast<double>(total - done) / rate);
  }
  return absl::StrFormat("%s %d/%d %s  %.0f %s/s  ETA %s", bar, done, total, unit, rate, unit, eta);
}

void Progress::Update(int64_t done, int64_t total) {
  if (!enabled_) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  const double seconds = absl::ToDoubleSeconds(now - start_);
  const double rate = seconds > 0 ? done / seconds : 0;
  std::fprintf(stderr, "\r%s\033[K", Render(done, total, rate, unit_).c_str());
}

void Progress::Finish() {
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace crm::ctl

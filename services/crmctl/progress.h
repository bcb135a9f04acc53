// A one-line progress bar on stderr for long imports and exports: done/total, rate and ETA.
// Drawn only when stderr is a terminal, at most ten times a second.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::ctl {

class Progress final {
 public:
  // `unit` names what is counted ("rows", "bytes").
  explicit Progress(std::string unit);
  void Update(int64_t done, int64_t total);
  // Clears the bar.
  void Finish();

  // "[#####.....]  512/1024 rows  250 rows/s  ETA 2s", without colour.
  static std::string Render(int64_t done, int64_t total, double rate, absl::string_view unit);

 private:
  std::string unit_;
  bool enabled_;
  absl::Time start_ = absl::Now();
  absl::Time last_draw_ = absl::InfinitePast();
};

}  // namespace crm::ctl

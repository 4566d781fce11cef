// SPDX-License-Identifier: GPL-2.0
//
// Time as plain milliseconds on a monotonic clock, injected into the engine
// so tests can drive hold times, deadlines and grace periods by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace htier {

using Millis = int64_t;
using ClockFn = std::function<Millis()>;

inline Millis monotonicMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace htier

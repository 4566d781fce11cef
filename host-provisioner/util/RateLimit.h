// SPDX-License-Identifier: GPL-2.0
//
// Budgets per unit of time, for what an untrusted peer can make the daemon
// do: a token bucket (so much per second, with a burst), and a throttle
// for log lines (one per interval, saying how many it held back).
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/Clock.h"

namespace htier {

class TokenBucket {
 public:
  TokenBucket(uint64_t perSecond, uint64_t burst)
      : perSecond_(perSecond), burst_(burst), tokens_(burst) {}

  // Tokens available at now (refilled since the last call).
  uint64_t available(Millis now) {
    if (now > lastMs_) {
      uint64_t add = static_cast<uint64_t>(now - lastMs_) * perSecond_ / 1000;
      if (add > 0 || lastMs_ == 0) {
        tokens_ = std::min(burst_, tokens_ + add);
        lastMs_ = now;
      }
    }
    return tokens_;
  }
  void take(uint64_t n) { tokens_ -= std::min(n, tokens_); }

 private:
  uint64_t perSecond_;
  uint64_t burst_;
  uint64_t tokens_;
  Millis lastMs_ = 0;
};

class LogThrottle {
 public:
  explicit LogThrottle(Millis intervalMs) : intervalMs_(intervalMs) {}

  // True when a line may be logged at now; held() then says how many were
  // not logged since the last line (and is reset by the next allow()).
  bool allow(Millis now) {
    if (logged_ && now < nextMs_) {
      suppressed_++;
      return false;
    }
    held_ = suppressed_;
    suppressed_ = 0;
    logged_ = true;
    nextMs_ = now + intervalMs_;
    return true;
  }
  uint64_t held() const { return held_; }

 private:
  Millis intervalMs_;
  Millis nextMs_ = 0;
  bool logged_ = false;
  uint64_t suppressed_ = 0;
  uint64_t held_ = 0;
};

}  // namespace htier

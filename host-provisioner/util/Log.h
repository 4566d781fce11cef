// SPDX-License-Identifier: GPL-2.0
//
// Minimal leveled logging to stderr: "<time> <level> <message>".  The daemon
// logs every decision that changes a VM (with the reason) at info, and every
// rejected guest message or QMP failure at warning, rate-limited by callers.
#pragma once

#include <sstream>

namespace htier {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void setLogLevel(LogLevel level);
LogLevel logLevel();

class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <class T>
  LogLine& operator<<(const T& v) {
    os_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream os_;
};

struct LogVoidify {
  void operator&(const LogLine&) {}
};

}  // namespace htier

// Ignores the stream when the level is off, without a dangling else.
#define HLOG(level)                                  \
  !(::htier::LogLevel::level >= ::htier::logLevel()) \
      ? (void)0                                      \
      : ::htier::LogVoidify() & ::htier::LogLine(::htier::LogLevel::level)

// SPDX-License-Identifier: GPL-2.0
#include "util/Log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace htier {

namespace {
std::atomic<LogLevel> gLevel{LogLevel::kInfo};

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}
}  // namespace

void setLogLevel(LogLevel level) {
  gLevel = level;
}
LogLevel logLevel() {
  return gLevel;
}

LogLine::~LogLine() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03lld %-5s %s\n", ts, static_cast<long long>(ms),
               levelName(level_), os_.str().c_str());
}

}  // namespace htier

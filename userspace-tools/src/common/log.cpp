// SPDX-License-Identifier: GPL-2.0
#include "common/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace htier::log {

namespace {
std::atomic<const char*> gProgram{"htier"};
std::atomic<bool> gVerbose{false};

const char* levelTag(Level l) {
  switch (l) {
    case Level::kError: return "error: ";
    case Level::kWarn: return "warning: ";
    case Level::kInfo: return "";
    case Level::kDebug: return "debug: ";
  }
  return "";
}
}  // namespace

void setProgram(const char* name) { gProgram = name; }
void setVerbose(bool v) { gVerbose = v; }
bool verbose() { return gVerbose; }

void write(Level level, const char* fmt, ...) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(ts.tv_nsec / 1000000 % 1000));
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  // One fprintf per line keeps lines whole when threads (tests) log at once.
  std::fprintf(stderr, "%s %s: %s%s\n", stamp, gProgram.load(), levelTag(level), msg);
}

}  // namespace htier::log

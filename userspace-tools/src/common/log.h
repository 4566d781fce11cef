// SPDX-License-Identifier: GPL-2.0
//
// Timestamped logging to stderr ("2024-05-01T12:00:00.123Z htier-agent: ...").
// printf-style because GCC 12 has no <format>.
#pragma once

namespace htier::log {

enum class Level { kError, kWarn, kInfo, kDebug };

void setProgram(const char* name);
void setVerbose(bool verbose);  // kDebug lines are shown only when verbose
bool verbose();

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace htier::log

#define HLOG_ERROR(...) ::htier::log::write(::htier::log::Level::kError, __VA_ARGS__)
#define HLOG_WARN(...) ::htier::log::write(::htier::log::Level::kWarn, __VA_ARGS__)
#define HLOG_INFO(...) ::htier::log::write(::htier::log::Level::kInfo, __VA_ARGS__)
#define HLOG_DEBUG(...)                                                                 \
  do {                                                                                  \
    if (::htier::log::verbose()) ::htier::log::write(::htier::log::Level::kDebug, __VA_ARGS__); \
  } while (0)

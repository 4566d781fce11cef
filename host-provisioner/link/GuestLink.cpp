// SPDX-License-Identifier: GPL-2.0
#include "link/GuestLink.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "util/Log.h"

namespace htier {

namespace {
constexpr Millis kMinBackoffMs = 250;
constexpr Millis kMaxBackoffMs = 5000;
}  // namespace

GuestLink::GuestLink(std::string vmName, std::string path,
                     uint64_t maxMemoryBytes)
    : vm_(std::move(vmName)),
      path_(std::move(path)),
      maxMemoryBytes_(maxMemoryBytes),
      lines_(kMaxMessageBytes) {}

void GuestLink::drop(const std::string& why) {
  if (fd_.valid())
    HLOG(kInfo) << vm_ << ": guest link " << path_ << " closed: " << why;
  fd_.reset();
  lines_.clear();
}

void GuestLink::problem(const std::string& why, Millis now) {
  lastProblem_ = why;
  problems_++;
  // A hostile guest must not flood the host's log: one line per interval
  // per VM, saying how many were not logged.
  if (!problemLog_.allow(now))
    return;
  std::string held;
  if (problemLog_.held())
    held = ", " + std::to_string(problemLog_.held()) + " since the last line";
  HLOG(kWarning) << vm_ << ": guest link: " << why << " (" << problems_
                 << " problems so far" << held << ")";
}

void GuestLink::overBudget(const std::string& what, Millis now) {
  counters_.throttled++;
  problem("over its budget of " + what + "; not read for now", now);
}

void GuestLink::feed(std::string_view bytes, Millis now) {
  uint64_t before = lines_.oversizedLines();
  lines_.feed(bytes);
  if (uint64_t n = lines_.oversizedLines() - before) {
    counters_.oversized += n;
    counters_.rejected[static_cast<size_t>(RejectReason::kOversized)] += n;
    problem("line longer than 64 KiB dropped", now);
  }
}

void GuestLink::handleLine(const std::string& line, Millis now) {
  if (line.empty())
    return;
  RejectReason why = RejectReason::kNotJson;
  auto msg = parseGuestMessage(line, maxMemoryBytes_, &why);
  if (!msg) {
    counters_.malformed++;
    counters_.rejected[static_cast<size_t>(why)]++;
    problem("rejected message: " + msg.message(), now);
    return;
  }
  if (msg->kind != ParsedMessage::Kind::kReport) {
    counters_.ignored++;
    return;
  }
  if (!msg->curveProblem.empty()) {
    counters_.curvesDropped++;
    problem("curve dropped: " + msg->curveProblem, now);
  }
  counters_.reports++;
  pending_ = std::move(msg->report);
}

void GuestLink::consume(std::string_view bytes, Millis now) {
  feed(bytes, now);
  while (auto line = lines_.next())
    handleLine(*line, now);
}

// Handles the lines read so far, within the budget; false when the budget
// ran out first.
bool GuestLink::handleLines(Millis now) {
  while (lines_.hasLine()) {
    if (linesBudget_.available(now) == 0) {
      overBudget(std::to_string(kLinesPerSecond) + " lines/s", now);
      return false;
    }
    linesBudget_.take(1);
    if (auto line = lines_.next())
      handleLine(*line, now);
  }
  return true;
}

void GuestLink::setPath(const std::string& path) {
  if (path == path_)
    return;
  drop("the channel is now " + path);
  HLOG(kInfo) << vm_ << ": guest link at " << path;
  path_ = path;
  nextConnectMs_ = 0;
  backoffMs_ = 0;
}

void GuestLink::poll(Millis now) {
  if (!fd_.valid()) {
    if (path_.empty() || now < nextConnectMs_)
      return;
    auto fd = connectUnix(path_);
    if (!fd) {
      backoffMs_ =
          std::min(kMaxBackoffMs, std::max(kMinBackoffMs, backoffMs_ * 2));
      nextConnectMs_ = now + backoffMs_;
      if (counters_.connects == 0 && backoffMs_ == kMinBackoffMs)
        HLOG(kInfo) << vm_ << ": guest link not up yet: " << fd.message();
      return;
    }
    fd_ = std::move(fd.value());
    resync_ = true;
    backoffMs_ = 0;
    counters_.connects++;
    HLOG(kInfo) << vm_ << ": guest link connected to " << path_;
  }
  // Lines already read first; what the budget does not cover stays in
  // the socket, and the guest's writes wait for it.
  if (!handleLines(now))
    return;
  char buf[16384];
  for (;;) {
    uint64_t allowed = bytesBudget_.available(now);
    if (allowed == 0) {
      overBudget(std::to_string(kBytesPerSecond / 1024) + " KiB/s", now);
      return;
    }
    ssize_t n =
        ::recv(fd_.get(), buf, std::min<uint64_t>(sizeof(buf), allowed), 0);
    if (n > 0) {
      bytesBudget_.take(static_cast<uint64_t>(n));
      feed(std::string_view(buf, static_cast<size_t>(n)), now);
      if (!handleLines(now))
        return;
      continue;
    }
    if (n == 0) {
      drop("peer closed");
      nextConnectMs_ = now + kMinBackoffMs;
      return;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      drop(std::strerror(errno));
      nextConnectMs_ = now + kMinBackoffMs;
    }
    return;
  }
}

std::optional<GuestReport> GuestLink::takeReport() {
  auto r = std::move(pending_);
  pending_.reset();
  return r;
}

Status GuestLink::sendQuota(uint64_t fastBytes, uint64_t effectiveInMs) {
  if (!fd_.valid()) {
    counters_.sendFailures++;
    return makeError("guest link not connected");
  }
  std::string line = encodeQuota(++quotaSeq_, fastBytes, effectiveInMs);
  if (resync_)
    line.insert(0, "\n");
  // A paused guest stops draining the port; never block the engine on it.
  auto st = writeAll(fd_.get(), line, monotonicMillis() + 100);
  resync_ = !st;  // part of the line may have gone
  if (!st) {
    counters_.sendFailures++;
    drop("send failed: " + st.message());
    return st;
  }
  counters_.quotasSent++;
  return okStatus();
}

}  // namespace htier

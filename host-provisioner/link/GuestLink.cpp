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
constexpr size_t kMaxReadPerPoll = 1 << 20;  // fairness between VMs
constexpr uint64_t kProblemLogBurst = 20;
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

void GuestLink::problem(const std::string& why) {
  lastProblem_ = why;
  // Bounded logging: a hostile guest must not flood the host's logs.
  if (++problemsLogged_ <= kProblemLogBurst || problemsLogged_ % 1000 == 0)
    HLOG(kWarning) << vm_ << ": rejected guest message (" << problemsLogged_
                   << " so far): " << why;
}

void GuestLink::consume(std::string_view bytes) {
  uint64_t before = lines_.oversizedLines();
  lines_.feed(bytes);
  if (uint64_t n = lines_.oversizedLines() - before) {
    counters_.oversized += n;
    problem("line longer than 64 KiB dropped");
  }
  while (auto line = lines_.next()) {
    if (line->empty())
      continue;
    auto msg = parseGuestMessage(*line, maxMemoryBytes_);
    if (!msg) {
      counters_.malformed++;
      problem(msg.message());
      continue;
    }
    if (msg->kind != ParsedMessage::Kind::kReport) {
      counters_.ignored++;
      continue;
    }
    if (!msg->curveProblem.empty()) {
      counters_.curvesDropped++;
      problem("curve dropped: " + msg->curveProblem);
    }
    counters_.reports++;
    pending_ = std::move(msg->report);
  }
}

void GuestLink::poll(Millis now) {
  if (!fd_.valid()) {
    if (now < nextConnectMs_)
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
    backoffMs_ = 0;
    counters_.connects++;
    HLOG(kInfo) << vm_ << ": guest link connected to " << path_;
  }
  char buf[16384];
  size_t total = 0;
  while (total < kMaxReadPerPoll) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      total += static_cast<size_t>(n);
      consume(std::string_view(buf, static_cast<size_t>(n)));
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
  // A paused guest stops draining the port; never block the engine on it.
  auto st = writeAll(fd_.get(), line, monotonicMillis() + 100);
  if (!st) {
    counters_.sendFailures++;
    drop("send failed: " + st.message());
    return st;
  }
  counters_.quotasSent++;
  return okStatus();
}

}  // namespace htier

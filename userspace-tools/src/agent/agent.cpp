// SPDX-License-Identifier: GPL-2.0
//
// htier-agent's poll loop; see agent.h for the shape.
#include "agent/agent.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstring>

#include "agent/textfile.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/state.h"

namespace htier::agent {

namespace {

int64_t msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<milliseconds>(b - a).count();
}

uint64_t absDiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

Agent::Agent(AgentOptions options, ChannelOpener opener)
    : opt_(std::move(options)), opener_(std::move(opener)), sysfs_(opt_.sysfsRoot), backoff_(opt_.backoffMin) {
  if (opt_.samplePeriod.count() <= 0)
    opt_.samplePeriod = std::clamp<milliseconds>(opt_.interval / 4, milliseconds(50), milliseconds(500));
}

Agent::~Agent() {
  if (fd_ >= 0) ::close(fd_);
}

// ---- sysfs side -----------------------------------------------------------

Result<ReportMessage> Agent::buildReport() const {
  ReportMessage r;
  const std::pair<const char*, uint64_t*> fields[] = {
      {"stats/fast_resident_bytes", &r.fastResidentBytes}, {"stats/slow_resident_bytes", &r.slowResidentBytes},
      {"stats/hot_set_bytes", &r.hotSetBytes},             {"stats/samples_fast", &r.samplesFast},
      {"stats/samples_slow", &r.samplesSlow},
  };
  for (auto [file, dst] : fields) {
    auto v = sysfs_.readU64(file);
    if (!v) return v.error();
    *dst = *v;
  }
  auto quotaText = sysfs_.read("quota_bytes");
  if (!quotaText) return quotaText.error();
  auto quota = parseQuota(*quotaText);
  if (!quota) return Error::msg("quota_bytes: " + quota.error().message);
  r.quotaUnlimited = quota->unlimited;
  r.quotaBytes = quota->unlimited ? protocol::kUnlimitedQuotaBytes : quota->bytes;
  // The curve is optional: without a readable histogram, say nothing.
  if (auto h = sysfs_.read("stats/hotness_histogram")) {
    if (auto bins = parseU64List(*h)) r.curve = accessShareCurve(*bins, kPageBytes);
  }
  r.lastQuotaSeq = lastQuotaSeq_;
  return r;
}

bool Agent::changedEnough(const ReportMessage& r) const {
  if (!lastSent_) return true;
  auto moved = [&](uint64_t now, uint64_t before) {
    auto threshold = std::max<uint64_t>(opt_.changeMinBytes, static_cast<uint64_t>(before * opt_.changeFraction));
    return absDiff(now, before) > threshold;
  };
  return moved(r.hotSetBytes, lastSent_->hotSetBytes) || moved(r.fastResidentBytes, lastSent_->fastResidentBytes) ||
         moved(r.slowResidentBytes, lastSent_->slowResidentBytes) || r.quotaBytes != lastSent_->quotaBytes;
}

void Agent::sample(Clock::time_point now) {
  if (now < nextSampleAt_) return;
  nextSampleAt_ = now + opt_.samplePeriod;
  if (fd_ < 0 || host_ != Host::kPresent) return;  // nobody to tell

  bool periodic = !lastSent_ || now - lastReportAt_ >= opt_.interval;
  // Reading sysfs is the cost of change detection; skip it while a change
  // report could not go out anyway.
  if (!periodic && now - lastReportAt_ < opt_.minReportGap) return;
  auto report = buildReport();
  if (!report) {
    if (sysfsOk_) HLOG_WARN("cannot read module state, not reporting: %s", report.error().message.c_str());
    sysfsOk_ = false;
    return;
  }
  if (!sysfsOk_) HLOG_INFO("module state readable again");
  sysfsOk_ = true;
  if (periodic || forceReport_ || changedEnough(*report)) queueReport(std::move(*report), now);
}

void Agent::writeTextfile(Clock::time_point now) {
  if (opt_.textfilePath.empty() || now < nextTextfileAt_) return;
  nextTextfileAt_ = now + opt_.interval;
  // Written whether or not a host listens: the guest's own monitoring
  // wants the module's stats either way.
  auto snap = sysfs_.snapshot();
  Status st = snap ? writeFileAtomically(opt_.textfilePath,
                                         textfileFromSnapshot(*snap, {counters_.reportsSent, counters_.quotasReceived,
                                                                      counters_.badMessages, host_ == Host::kPresent}))
                   : Status(snap.error());
  if (!st) {
    if (textfileOk_) HLOG_WARN("textfile %s not written: %s", opt_.textfilePath.c_str(), st.error().message.c_str());
    textfileOk_ = false;
    return;
  }
  if (!textfileOk_) HLOG_INFO("textfile %s written again", opt_.textfilePath.c_str());
  textfileOk_ = true;
}

void Agent::queueReport(ReportMessage r, Clock::time_point now) {
  r.seq = ++seq_;
  std::string line = protocol::encodeMessage(r);
  line += '\n';
  if (outMidLine_) {
    // Finish the line already on its way; replace anything queued after it.
    out_.erase(out_.find('\n') + 1);
    out_ += line;
  } else {
    out_ = std::move(line);  // a stale unsent report is worth nothing
  }
  lastSent_ = ReportBasis{r.fastResidentBytes, r.slowResidentBytes, r.hotSetBytes, r.quotaBytes};
  lastReportAt_ = now;
  forceReport_ = false;
  HLOG_DEBUG("report seq=%" PRIu64 " fast=%" PRIu64 " slow=%" PRIu64 " hot=%" PRIu64 " curve=%zu points", r.seq,
             r.fastResidentBytes, r.slowResidentBytes, r.hotSetBytes, r.curve ? r.curve->size() : size_t(0));
  flushOutput(now);
}

// ---- quota ------------------------------------------------------------------

void Agent::applyQuota(const QuotaMessage& q, Clock::time_point now) {
  ++counters_.quotasReceived;
  milliseconds wait(std::min<uint64_t>(q.effectiveInMs, static_cast<uint64_t>(opt_.maxQuotaWait.count())));
  if (pending_)
    HLOG_INFO("quota seq=%" PRIu64 " replaces seq=%" PRIu64 " before it was reached", q.seq, pending_->msg.seq);
  pending_.reset();
  Status st = sysfs_.write("quota_bytes", std::to_string(q.fastBytes));
  if (!st) {
    ++counters_.quotaWriteErrors;
    HLOG_ERROR("quota seq=%" PRIu64 ": %s", q.seq, st.error().message.c_str());
    forceReport_ = true;  // the host learns the quota it has is unchanged
    return;
  }
  lastQuotaSeq_ = q.seq;
  HLOG_INFO("quota seq=%" PRIu64 ": quota_bytes=%" PRIu64 ", waiting up to %lld ms for fast residency to follow",
            q.seq, q.fastBytes, static_cast<long long>(wait.count()));
  pending_ = PendingQuota{q, now, now + wait, now};
  checkPendingQuota(now);
}

void Agent::checkPendingQuota(Clock::time_point now) {
  if (!pending_ || now < pending_->nextPoll) return;
  pending_->nextPoll = now + opt_.quotaPollPeriod;
  auto fast = sysfs_.readU64("stats/fast_resident_bytes");
  const QuotaMessage& q = pending_->msg;
  if (fast && *fast <= q.fastBytes) {
    ++counters_.quotasReached;
    HLOG_INFO("quota seq=%" PRIu64 " reached after %lld ms: fast resident %" PRIu64 " <= %" PRIu64, q.seq,
              static_cast<long long>(msBetween(pending_->start, now)), *fast, q.fastBytes);
  } else if (now >= pending_->deadline) {
    ++counters_.quotaDeadlineMissed;
    if (fast)
      HLOG_WARN("quota seq=%" PRIu64 " not reached within %lld ms: fast resident %" PRIu64 " > %" PRIu64, q.seq,
                static_cast<long long>(msBetween(pending_->start, now)), *fast, q.fastBytes);
    else
      HLOG_WARN("quota seq=%" PRIu64 ": cannot read fast residency: %s", q.seq, fast.error().message.c_str());
  } else {
    return;
  }
  pending_.reset();
  forceReport_ = true;
}

// ---- input ------------------------------------------------------------------

void Agent::handleLine(std::string_view line) {
  ++counters_.linesReceived;
  auto decoded = protocol::decodeMessage(line);
  if (auto* f = std::get_if<protocol::DecodeFailure>(&decoded)) {
    ++counters_.badMessages;
    ++counters_.badByKind[static_cast<size_t>(f->kind)];
    HLOG_WARN("bad message from host (%s: %s), %" PRIu64 " so far", protocol::decodeErrorName(f->kind),
              f->detail.c_str(), counters_.badMessages.load());
    return;
  }
  const protocol::Message& m = std::get<protocol::Message>(decoded);
  if (const auto* q = std::get_if<QuotaMessage>(&m)) {
    applyQuota(*q, Clock::now());
    return;
  }
  ++counters_.unexpectedMessages;
  HLOG_WARN("ignoring a '%s' message from the host", "report");
}

void Agent::consumeInput(std::string_view bytes) {
  uint64_t before = in_.oversizedLines();
  in_.feed(bytes);
  for (uint64_t n = in_.oversizedLines() - before; n > 0; --n) {
    ++counters_.linesReceived;
    ++counters_.badMessages;
    ++counters_.badByKind[static_cast<size_t>(DecodeError::kTooLong)];
    HLOG_WARN("bad message from host (too_long: over %zu bytes), dropped", protocol::kMaxMessageBytes);
  }
  while (auto line = in_.next())
    if (!line->empty()) handleLine(*line);
}

bool Agent::readInput(Clock::time_point now) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      hostSeen(now);
      consumeInput(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) {  // virtio-serial: host side not connected; socket: peer gone
      hostGone(now);
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    HLOG_WARN("read from host channel failed: %s", std::strerror(errno));
    closeChannel(now, CloseReason::kError);
    return false;
  }
}

// ---- output -----------------------------------------------------------------

void Agent::flushOutput(Clock::time_point now) {
  while (fd_ >= 0 && !out_.empty()) {
    ssize_t n = ::write(fd_, out_.data(), out_.size());
    if (n > 0) {
      std::string_view sent(out_.data(), static_cast<size_t>(n));
      counters_.reportsSent += static_cast<uint64_t>(std::count(sent.begin(), sent.end(), '\n'));
      outMidLine_ = sent.back() != '\n';
      out_.erase(0, static_cast<size_t>(n));
      hostSeen(now);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // wait for POLLOUT
    if (n < 0 && errno == EPIPE) {
      hostGone(now);
      return;
    }
    HLOG_WARN("write to host channel failed: %s", n < 0 ? std::strerror(errno) : "wrote nothing");
    closeChannel(now, CloseReason::kError);
    return;
  }
}

// ---- channel lifecycle ------------------------------------------------------

void Agent::tryOpen(Clock::time_point now) {
  auto fd = opener_();
  if (!fd) {
    ++counters_.openFailures;
    if (!lastOpenFailed_) HLOG_WARN("cannot open host channel, will retry: %s", fd.error().message.c_str());
    lastOpenFailed_ = true;
    reopenAt_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, opt_.backoffMax);
    return;
  }
  ++counters_.opens;
  if (lastOpenFailed_ || counters_.opens == 1) HLOG_INFO("host channel open");
  lastOpenFailed_ = false;
  fd_ = *fd;
}

void Agent::closeChannel(Clock::time_point now, CloseReason why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (why == CloseReason::kHostAbsent) {
    reopenAt_ = now + opt_.hostAbsentRetry;
  } else {
    host_ = Host::kUnknown;
    HLOG_INFO("host channel closed, reopening in %lld ms", static_cast<long long>(backoff_.count()));
    reopenAt_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, opt_.backoffMax);
  }
  // Whatever was half-sent or half-received belonged to that connection.
  in_.clear();
  out_.clear();
  outMidLine_ = false;
}

void Agent::hostGone(Clock::time_point now) {
  if (host_ != Host::kAbsent)
    HLOG_INFO("host side not connected; retrying every %lld ms", static_cast<long long>(opt_.hostAbsentRetry.count()));
  host_ = Host::kAbsent;
  closeChannel(now, CloseReason::kHostAbsent);
}

void Agent::hostSeen(Clock::time_point now) {
  backoff_ = opt_.backoffMin;
  if (host_ == Host::kPresent) return;
  HLOG_INFO("host side connected");
  host_ = Host::kPresent;
  forceReport_ = true;
  nextSampleAt_ = now;
}

// ---- loop -------------------------------------------------------------------

int Agent::pollTimeoutMs(Clock::time_point now) const {
  Clock::time_point next = nextSampleAt_;
  if (fd_ < 0) next = std::min(next, reopenAt_);
  if (pending_) next = std::min(next, pending_->nextPoll);
  if (!opt_.textfilePath.empty()) next = std::min(next, nextTextfileAt_);
  // Bounded so that a stop flag set by another thread is seen promptly.
  return static_cast<int>(std::clamp<int64_t>(msBetween(now, next), 0, 200));
}

int Agent::run(const std::atomic<bool>& stop) {
  const Clock::time_point onceDeadline = Clock::now() + opt_.onceTimeout;
  while (!stop.load()) {
    Clock::time_point now = Clock::now();
    if (fd_ < 0 && now >= reopenAt_) tryOpen(now);
    sample(now);
    writeTextfile(now);
    checkPendingQuota(now);
    if (opt_.once) {
      if (counters_.reportsSent > 0) return 0;
      if (now >= onceDeadline) {
        HLOG_ERROR("--once: no report could be sent within %lld ms", static_cast<long long>(opt_.onceTimeout.count()));
        return 1;
      }
    }

    pollfd pfd{fd_, 0, 0};
    // POLLOUT also while the host's presence is unconfirmed: writable without
    // POLLHUP is how a virtio-serial port says the host side is connected.
    if (fd_ >= 0) pfd.events = POLLIN | ((out_.empty() && host_ == Host::kPresent) ? 0 : POLLOUT);
    int rc = ::poll(&pfd, 1, pollTimeoutMs(now));
    if (rc < 0 && errno != EINTR) {
      HLOG_ERROR("poll failed: %s", std::strerror(errno));
      return 1;
    }
    if (rc <= 0 || fd_ < 0) continue;
    now = Clock::now();
    const short ev = pfd.revents;
    if (ev & POLLNVAL) {
      closeChannel(now, CloseReason::kError);
      continue;
    }
    if ((ev & (POLLIN | POLLHUP | POLLERR)) && !readInput(now)) continue;
    if (ev & POLLHUP) {
      hostGone(now);
      continue;
    }
    if (ev & POLLERR) {
      HLOG_WARN("host channel error");
      closeChannel(now, CloseReason::kError);
      continue;
    }
    if (ev & POLLOUT) {
      hostSeen(now);
      flushOutput(now);
    }
  }
  HLOG_INFO("stopping: %" PRIu64 " reports sent, %" PRIu64 " quotas received, %" PRIu64 " bad messages",
            counters_.reportsSent.load(), counters_.quotasReceived.load(), counters_.badMessages.load());
  return 0;
}

}  // namespace htier::agent

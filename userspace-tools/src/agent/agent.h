// SPDX-License-Identifier: GPL-2.0
//
// htier-agent's engine: one thread, one poll loop.  It samples the module's
// sysfs stats, sends `report` messages to the host every interval and on
// change, and applies `quota` messages by writing quota_bytes and watching
// fast residency fall below it before the host's deadline.
//
// Transport: a virtio-serial port whose host side is not connected polls as
// POLLHUP and reads as EOF (writes would get EAGAIN).  The agent then closes
// the port and reopens it every hostAbsentRetry; while the guest has the
// port closed QEMU leaves host data in the chardev, so nothing is lost.  A
// unix socket whose peer went away behaves the same way, which is how a
// restarted host gets a fresh connection.  Open or I/O errors reopen with
// exponential backoff.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/channel.h"
#include "common/sysfs.h"
#include "htier/protocol/line_reader.h"
#include "htier/protocol/message.h"

namespace htier::agent {

// The guest <-> host messages, shared with htier-provisiond (protocol/).
using protocol::DecodeError;
using protocol::QuotaMessage;
using protocol::ReportMessage;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct AgentOptions {
  std::string sysfsRoot = kDefaultSysfsRoot;
  milliseconds interval{2000};  // periodic report
  bool once = false;            // send one report, then exit
  milliseconds onceTimeout{5000};
  // "On change": a report goes out early when hot set or residency moved
  // by more than max(changeMinBytes, changeFraction * last reported value).
  uint64_t changeMinBytes = 4ull << 20;
  double changeFraction = 0.05;
  milliseconds minReportGap{250};      // rate limit for change reports
  milliseconds samplePeriod{0};        // 0: interval / 4, clamped to [50, 500] ms
  milliseconds hostAbsentRetry{500};   // re-check a disconnected host
  milliseconds backoffMin{100};        // reopen backoff, doubling
  milliseconds backoffMax{5000};
  milliseconds quotaPollPeriod{50};    // fast_resident polling after a quota
  milliseconds maxQuotaWait{600000};   // clamp for effective_in_ms
  // node_exporter textfile (agent/textfile.h) rewritten every interval;
  // empty: none.
  std::string textfilePath;
};

// Monotonic counters, readable from other threads (tests, signal summaries).
struct AgentCounters {
  std::atomic<uint64_t> reportsSent{0};
  std::atomic<uint64_t> linesReceived{0};
  std::atomic<uint64_t> quotasReceived{0};
  std::atomic<uint64_t> quotasReached{0};        // fast residency got under it in time
  std::atomic<uint64_t> quotaDeadlineMissed{0};
  std::atomic<uint64_t> quotaWriteErrors{0};
  std::atomic<uint64_t> badMessages{0};          // sum of the array below
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DecodeError::kCount)> badByKind{};
  std::atomic<uint64_t> unexpectedMessages{0};   // valid but not for the guest (report)
  std::atomic<uint64_t> opens{0};
  std::atomic<uint64_t> openFailures{0};
};

// What the last report said, to detect change.
struct ReportBasis {
  uint64_t fastResidentBytes = 0, slowResidentBytes = 0, hotSetBytes = 0, quotaBytes = 0;
};

class Agent {
 public:
  Agent(AgentOptions options, ChannelOpener opener);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until `stop` is set (or, with once, the report is out).  Returns
  // the process exit code.
  int run(const std::atomic<bool>& stop);

  // The current report from sysfs (seq not yet assigned).
  Result<ReportMessage> buildReport() const;
  // Validate and act on one received line (no newline).
  void handleLine(std::string_view line);

  const AgentCounters& counters() const { return counters_; }

 private:
  struct PendingQuota {
    QuotaMessage msg;
    Clock::time_point start, deadline, nextPoll;
  };

  void tryOpen(Clock::time_point now);
  enum class CloseReason { kError, kHostAbsent };
  void closeChannel(Clock::time_point now, CloseReason why);
  void hostGone(Clock::time_point now);
  void hostSeen(Clock::time_point now);
  void sample(Clock::time_point now);
  void writeTextfile(Clock::time_point now);
  bool changedEnough(const ReportMessage& r) const;
  void queueReport(ReportMessage r, Clock::time_point now);
  void flushOutput(Clock::time_point now);
  // Returns false when the channel was closed (EOF or error).
  bool readInput(Clock::time_point now);
  void consumeInput(std::string_view bytes);
  void applyQuota(const QuotaMessage& q, Clock::time_point now);
  void checkPendingQuota(Clock::time_point now);
  int pollTimeoutMs(Clock::time_point now) const;

  AgentOptions opt_;
  ChannelOpener opener_;
  Sysfs sysfs_;
  AgentCounters counters_;

  int fd_ = -1;
  Clock::time_point reopenAt_{};
  milliseconds backoff_;
  bool lastOpenFailed_ = false;  // log the first failure of a series only
  // kPresent once the open channel polls writable without POLLHUP; reports
  // are only built then, so an absent host costs no seq numbers.
  enum class Host { kUnknown, kPresent, kAbsent } host_ = Host::kUnknown;

  // The host's bytes split into lines; an over-long one is dropped whole.
  protocol::LineReader in_{protocol::kMaxMessageBytes};
  std::string out_;          // unsent bytes of at most one or two lines
  bool outMidLine_ = false;  // part of out_'s first line is already written

  uint64_t seq_ = 0;
  std::optional<ReportBasis> lastSent_;
  Clock::time_point lastReportAt_{};
  Clock::time_point nextSampleAt_{};
  bool forceReport_ = true;
  bool sysfsOk_ = true;  // for logging transitions only
  Clock::time_point nextTextfileAt_{};
  bool textfileOk_ = true;  // for logging transitions only
  std::optional<uint64_t> lastQuotaSeq_;
  std::optional<PendingQuota> pending_;
};

}  // namespace htier::agent

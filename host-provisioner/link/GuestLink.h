// SPDX-License-Identifier: GPL-2.0
//
// The host end of a guest's org.htier.0 virtio-serial port: a unix socket
// served by QEMU (-chardev socket,server=on, or libvirt's <channel
// type='unix'><source mode='bind'>) that we connect to.  Without a path
// (a libvirt VM not adopted yet) it does nothing.  Reads are
// non-blocking and bounded (64 KiB per line); the link reconnects with a
// back-off whenever the socket goes away (VM restarted, QEMU gone).
//
// The guest is untrusted, so what it can make the daemon do is budgeted
// per unit of time: bytes read and lines handled per second (beyond them
// the link is not read, and the guest's writes wait), and one log line per
// kProblemLogIntervalMs for everything it gets wrong, with a count.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "htier/protocol/line_reader.h"
#include "link/Message.h"
#include "util/Clock.h"
#include "util/RateLimit.h"
#include "util/UnixSocket.h"

namespace htier {

struct LinkCounters {
  uint64_t connects = 0;
  uint64_t reports = 0;
  uint64_t malformed = 0;  // rejected lines: bad JSON, bad or lying fields
  uint64_t oversized = 0;  // lines over 64 KiB, dropped
  uint64_t curvesDropped = 0;
  uint64_t ignored = 0;  // well-formed messages of other types
  uint64_t quotasSent = 0;
  uint64_t sendFailures = 0;
  uint64_t throttled = 0;  // polls that stopped at the link's budget
  // malformed + oversized, by reason (indexed by RejectReason).
  std::array<uint64_t, static_cast<size_t>(RejectReason::kCount)> rejected{};
};

// What the engine needs from a guest link; a seam for tests.
class GuestChannel {
 public:
  virtual ~GuestChannel() = default;
  // Connects if needed and reads whatever is pending.
  virtual void poll(Millis now) = 0;
  // The newest accepted report since the last call, if any.
  virtual std::optional<GuestReport> takeReport() = 0;
  virtual Status sendQuota(uint64_t fastBytes, uint64_t effectiveInMs) = 0;
  virtual bool connected() const = 0;
  virtual const LinkCounters& counters() const = 0;
  virtual std::string lastProblem() const = 0;
  // The socket is now at @path (a libvirt domain names it in its XML,
  // read at each adoption): a link elsewhere is dropped.
  virtual void setPath(const std::string& path) { (void)path; }
};

class GuestLink : public GuestChannel {
 public:
  GuestLink(std::string vmName, std::string path, uint64_t maxMemoryBytes);

  void poll(Millis now) override;
  std::optional<GuestReport> takeReport() override;
  Status sendQuota(uint64_t fastBytes, uint64_t effectiveInMs) override;
  bool connected() const override { return fd_.valid(); }
  const LinkCounters& counters() const override { return counters_; }
  std::string lastProblem() const override { return lastProblem_; }
  void setPath(const std::string& path) override;

  void setMaxMemoryBytes(uint64_t bytes) { maxMemoryBytes_ = bytes; }
  int fd() const { return fd_.get(); }

  // Feeds bytes as if read from the socket and handles every line in
  // them, outside the budget (for tests).
  void consume(std::string_view bytes, Millis now = monotonicMillis());

  // Per VM: a report is at most 64 KiB and comes every second or so.
  static constexpr uint64_t kBytesPerSecond = 256 * 1024;
  static constexpr uint64_t kBytesBurst = 256 * 1024;
  static constexpr uint64_t kLinesPerSecond = 20;
  static constexpr uint64_t kLinesBurst = 40;
  static constexpr Millis kProblemLogIntervalMs = 10000;

 private:
  void drop(const std::string& why);
  void problem(const std::string& why, Millis now);
  void feed(std::string_view bytes, Millis now);
  void handleLine(const std::string& line, Millis now);
  bool handleLines(Millis now);
  void overBudget(const std::string& what, Millis now);

  std::string vm_;
  std::string path_;
  uint64_t maxMemoryBytes_;
  Fd fd_;
  protocol::LineReader lines_;
  Millis nextConnectMs_ = 0;
  Millis backoffMs_ = 0;
  uint64_t quotaSeq_ = 0;
  // The guest's reader may hold part of a line (a send that failed
  // half-way, an earlier connection): the next message starts with '\n',
  // which ends that fragment as one bad line and is itself skipped.
  bool resync_ = true;
  std::optional<GuestReport> pending_;
  LinkCounters counters_;
  std::string lastProblem_;
  uint64_t problems_ = 0;
  TokenBucket bytesBudget_{kBytesPerSecond, kBytesBurst};
  TokenBucket linesBudget_{kLinesPerSecond, kLinesBurst};
  LogThrottle problemLog_{kProblemLogIntervalMs};
};

}  // namespace htier

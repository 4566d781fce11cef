// SPDX-License-Identifier: GPL-2.0
//
// The engine over the daemon's real ports (QMP and guest links on unix
// sockets), ticked like the daemon's loop, against scripted peers: a VM
// whose QMP answers its greeting and then goes silent, a guest that floods
// its link.  What is checked is what the other VMs see: their size polling
// rate, their shrink deadlines, the loop's tick rate, the daemon's CPU and
// its log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/Daemon.h"
#include "htier/protocol/line_reader.h"
#include "htier/protocol/message.h"
#include "policy/PolicyRegistry.h"
#include "util/TestTempDir.h"
#include "util/Units.h"
#include "util/UnixSocket.h"

using namespace htier;
using json = nlohmann::json;

namespace {

// A server on a unix socket run by its own thread: accepts every
// connection and hands each complete line to onLine(); a subclass may also
// act on its own every few ms (onIdle()).
class PeerServer {
 public:
  explicit PeerServer(std::string path) : path_(std::move(path)) {
    auto l = listenUnix(path_);
    EXPECT_TRUE(l) << l.message();
    if (l)
      listener_ = std::move(l.value());
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    stopRead_ = Fd(p[0]);
    stopWrite_ = Fd(p[1]);
  }
  virtual ~PeerServer() { stop(); }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    if (!thread_.joinable())
      return;
    (void)::write(stopWrite_.get(), "x", 1);
    thread_.join();
  }

 protected:
  struct Conn {
    Fd fd;
    protocol::LineReader lines{1 << 20};
  };
  virtual void onConnect(Conn&) {}
  virtual void onLine(Conn&, const std::string&) {}
  virtual void onIdle(Conn&) {}

  static void sendLine(Conn& c, const std::string& line) {
    (void)writeAll(c.fd.get(), line + "\r\n", monotonicMillis() + 1000);
  }

 private:
  void loop() {
    std::vector<std::unique_ptr<Conn>> conns;
    for (;;) {
      std::vector<pollfd> fds{{stopRead_.get(), POLLIN, 0},
                              {listener_.get(), POLLIN, 0}};
      for (auto& c : conns)
        fds.push_back({c->fd.get(), POLLIN, 0});
      ::poll(fds.data(), fds.size(), 5);
      if (fds[0].revents)
        return;
      const size_t polled = conns.size();  // fds[k + 2] is conns[k]'s
      if (fds[1].revents & POLLIN) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK);
        if (fd >= 0) {
          conns.push_back(std::make_unique<Conn>());
          conns.back()->fd = Fd(fd);
          onConnect(*conns.back());
        }
      }
      // i walks conns as it is now, k the connections that were polled.
      for (size_t i = 0, k = 0; i < conns.size(); k++) {
        Conn& c = *conns[i];
        if (k < polled && (fds[k + 2].revents & (POLLIN | POLLHUP | POLLERR))) {
          char buf[4096];
          ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conns.erase(conns.begin() + static_cast<long>(i));
            continue;
          }
          if (n > 0)
            c.lines.feed(std::string_view(buf, static_cast<size_t>(n)));
          while (auto line = c.lines.next())
            onLine(c, *line);
        }
        onIdle(c);
        i++;
      }
    }
  }

  std::string path_;
  Fd listener_, stopRead_, stopWrite_;
  std::thread thread_;
};

// QEMU's QMP monitor with one virtio-mem device "vm0" that plugs and
// unplugs at once; or, silent, a monitor that greets and then never
// answers again (a wedged QEMU).
class ScriptedQmp : public PeerServer {
 public:
  ScriptedQmp(std::string path, uint64_t sizeBytes, bool silent)
      : PeerServer(std::move(path)), size_(sizeBytes), silent_(silent) {
    start();
  }
  ~ScriptedQmp() override { stop(); }

  std::atomic<uint64_t> sizePolls{0};
  std::atomic<Millis> lastSetMs{0};
  uint64_t requested() const { return size_.load(); }

 private:
  void onConnect(Conn& c) override {
    sendLine(c, R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, )"
                R"("major": 7}, "package": ""}, "capabilities": ["oob"]}})");
  }
  void onLine(Conn& c, const std::string& line) override {
    if (silent_)
      return;
    json req = json::parse(line, nullptr, false);
    json id = req.value("id", json());
    std::string cmd = req.value("execute", "");
    json args = req.value("arguments", json::object());
    json ret = json::object();
    if (cmd == "qom-get") {
      std::string prop = args.value("property", "");
      if (prop == "block-size")
        ret = 2 * kMiB;
      else if (prop == "memdev")
        ret = "/objects/mem0";
      else if (prop == "size" && args.value("path", "") == "/objects/mem0")
        ret = 4 * kGiB;
      else if (prop == "size" || prop == "requested-size")
        ret = size_.load();
      if (prop == "size")
        sizePolls++;
    } else if (cmd == "qom-set") {
      size_ = args.value("value", uint64_t{0});
      lastSetMs = monotonicMillis();
    }
    sendLine(c, json{{"return", ret}, {"id", id}}.dump());
  }

  std::atomic<uint64_t> size_;
  bool silent_;
};

// The guest end of org.htier.0: sends a report every 200 ms (an idle
// guest: hot set 0), or floods the link with lines the host must reject;
// notes when a quota arrives.
class ScriptedGuest : public PeerServer {
 public:
  enum class Mode { kIdle, kFlood };
  ScriptedGuest(std::string path, Mode mode)
      : PeerServer(std::move(path)), mode_(mode) {
    start();
  }
  ~ScriptedGuest() override { stop(); }

  std::atomic<Millis> firstShrinkQuotaMs{0};

 private:
  void onLine(Conn&, const std::string& line) override {
    json q = json::parse(line, nullptr, false);
    if (q.is_object() && q.value("effective_in_ms", 0) > 0 &&
        firstShrinkQuotaMs == 0)
      firstShrinkQuotaMs = monotonicMillis();
  }
  void onIdle(Conn& c) override {
    if (mode_ == Mode::kFlood) {
      // As fast as the socket takes it: valid JSON, invalid reports.
      std::string burst;
      for (int i = 0; i < 256; i++)
        burst += R"({"v":1,"type":"report","seq":1,"hot_set_bytes":-1})"
                 "\n";
      while (::send(c.fd.get(), burst.data(), burst.size(), MSG_NOSIGNAL) > 0)
        ;
      return;
    }
    Millis now = monotonicMillis();
    if (now < nextReportMs_)
      return;
    nextReportMs_ = now + 200;
    protocol::ReportMessage idle;
    idle.seq = ++seq_;
    sendLine(c, protocol::encodeMessage(idle));
  }

  Mode mode_;
  Millis nextReportMs_ = 0;
  uint64_t seq_ = 0;
};

Millis threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct LoopStats {
  uint64_t ticks = 0;
  Millis maxTickMs = 0;
  Millis cpuMs = 0;
};

// The daemon's loop: a tick every 100 ms (slots fixed in advance, so the
// sleep's own latency does not add up); a tick that overruns its slot
// costs the ticks it overran.
LoopStats runLikeTheDaemon(Engine& engine, Millis ms) {
  LoopStats s;
  Millis cpu0 = threadCpuMs();
  Millis start = monotonicMillis();
  for (Millis slot = start; slot < start + ms; slot += 100) {
    Millis now = monotonicMillis();
    if (now >= slot + 100)
      continue;  // missed
    if (now < slot)
      ::usleep(static_cast<useconds_t>((slot - now) * 1000));
    Millis t0 = monotonicMillis();
    engine.tick();
    s.maxTickMs = std::max(s.maxTickMs, monotonicMillis() - t0);
    s.ticks++;
  }
  s.cpuMs = threadCpuMs() - cpu0;
  return s;
}

class CapturedLog {
 public:
  explicit CapturedLog(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~CapturedLog() { restore(); }
  void restore() {
    if (saved_ < 0)
      return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::vector<std::string> lines() {
    restore();
    std::vector<std::string> out;
    std::ifstream in(path_);
    for (std::string l; std::getline(in, l);)
      out.push_back(l);
    return out;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

class DaemonLoadTest : public ::testing::Test {
 protected:
  DaemonLoadTest() {
    cfg_.fastCapacityBytes = 8 * kGiB;
    cfg_.holdMs = 0;
    cfg_.hysteresisBytes = 0;
    cfg_.shrinkNoticeMs = 1500;  // not a multiple of a wedged QMP's 2 s
    cfg_.statusSocket = tmp_.path() + "/status.sock";
  }
  VmConfig& addVm(const std::string& name) {
    VmConfig vc;
    vc.name = name;
    vc.qmpPath = tmp_.path() + "/" + name + ".qmp";
    vc.channelPath = tmp_.path() + "/" + name + ".sock";
    vc.fastDevice = "vm0";
    vc.minFastBytes = 256 * kMiB;
    vc.maxFastBytes = 4 * kGiB;
    cfg_.vms.push_back(vc);
    return cfg_.vms.back();
  }

  htier::testing::TempDir tmp_{"htier-load"};
  Config cfg_;
};

}  // namespace

// Issue 10 item 3: b's QEMU greets and then never answers (each of its
// commands waits out qmp_timeout_ms).  a must not notice: its size is
// polled every tick, its shrink happens shrink_notice_ms after the notice,
// and no tick waits on b.
TEST_F(DaemonLoadTest, WedgedQmpDoesNotStallTheOtherVms) {
  addVm("a");
  addVm("b");
  ScriptedQmp qmpA(cfg_.vms[0].qmpPath, 2 * kGiB, false);
  ScriptedQmp qmpB(cfg_.vms[1].qmpPath, 2 * kGiB, true);
  ScriptedGuest guestA(cfg_.vms[0].channelPath, ScriptedGuest::Mode::kIdle);
  auto owned = std::make_unique<Engine>(cfg_, makePolicy("utility"),
                                        makeDaemonPorts(cfg_));
  Engine& engine = *owned;

  auto warmup = runLikeTheDaemon(engine, 1000);
  uint64_t polls0 = qmpA.sizePolls;
  auto s = runLikeTheDaemon(engine, 5000);
  double pollsPerS = static_cast<double>(qmpA.sizePolls - polls0) / 5.0;
  std::printf("a: %.1f size polls/s, %.1f ticks/s, longest tick %lld ms\n",
              pollsPerS, static_cast<double>(s.ticks) / 5.0,
              static_cast<long long>(std::max(s.maxTickMs, warmup.maxTickMs)));
  EXPECT_GE(pollsPerS, 8.0);
  EXPECT_GE(s.ticks, 45u);
  EXPECT_LT(std::max(s.maxTickMs, warmup.maxTickMs), 50);

  // a's guest is idle: a shrinks to its min, shrink_notice_ms after the
  // notice (within a tick or two), not whenever b lets the loop go.
  ASSERT_NE(guestA.firstShrinkQuotaMs.load(), 0);
  ASSERT_EQ(qmpA.requested(), 256 * kMiB);
  Millis late =
      qmpA.lastSetMs - guestA.firstShrinkQuotaMs - cfg_.shrinkNoticeMs;
  std::printf("a: shrink %lld ms after its deadline\n",
              static_cast<long long>(late));
  EXPECT_LT(late, 250);
  EXPECT_EQ(engine.status().vms[1].phase, "connecting");

  // Shutdown does not wait out b's command in progress.
  Millis t0 = monotonicMillis();
  owned.reset();
  EXPECT_LT(monotonicMillis() - t0, 200);
}

// Issue 10 item 4: b's guest writes reports the host must reject as fast
// as its link takes them.  The daemon's thread spends a small share of a
// CPU on them, a's ticks and polls keep their rate, and b's faults make a
// line in the log now and then, with a count, not a line each.
TEST_F(DaemonLoadTest, FloodingGuestBuysNoCpuAndNoLog) {
  addVm("a");
  addVm("b");
  ScriptedQmp qmpA(cfg_.vms[0].qmpPath, 2 * kGiB, false);
  ScriptedQmp qmpB(cfg_.vms[1].qmpPath, 2 * kGiB, false);
  ScriptedGuest guestA(cfg_.vms[0].channelPath, ScriptedGuest::Mode::kIdle);
  ScriptedGuest guestB(cfg_.vms[1].channelPath, ScriptedGuest::Mode::kFlood);
  Engine engine(cfg_, makePolicy("utility"), makeDaemonPorts(cfg_));

  (void)runLikeTheDaemon(engine, 500);  // adopted, links up
  uint64_t polls0 = qmpA.sizePolls;
  std::vector<std::string> log;
  LoopStats s;
  {
    CapturedLog captured(tmp_.path() + "/log");
    s = runLikeTheDaemon(engine, 5000);
    log = captured.lines();
  }
  size_t bLines = 0;
  for (const auto& l : log)
    if (l.find(" b: ") != std::string::npos)
      bLines++;
  double pollsPerS = static_cast<double>(qmpA.sizePolls - polls0) / 5.0;
  auto st = engine.status();
  std::printf(
      "flood: daemon thread %lld ms CPU in 5 s, %.1f ticks/s, a polled "
      "%.1f/s, %zu log lines about b (%zu in all), %llu of b's lines "
      "rejected\n",
      static_cast<long long>(s.cpuMs), static_cast<double>(s.ticks) / 5.0,
      pollsPerS, bLines, log.size(),
      static_cast<unsigned long long>(st.vms[1].rejectedMessages));
  EXPECT_LT(s.cpuMs, 500);  // < 10% of a CPU
  EXPECT_GE(s.ticks, 45u);
  EXPECT_GE(pollsPerS, 8.0);
  EXPECT_LE(bLines, 1u);  // one per 10 s
  EXPECT_GT(st.vms[1].rejectedMessages, 0u);
  EXPECT_GT(st.vms[0].reports, 0u);
}

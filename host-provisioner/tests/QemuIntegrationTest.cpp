// SPDX-License-Identifier: GPL-2.0
//
// Integration tests against real qemu-system-x86_64 processes (TCG, paused
// with -S, no guest kernel): QMP, qom-get and qom-set work on a paused
// machine; sizes only change when a guest driver plugs, which needs the
// full-guest harness (tests/vm).  Each QEMU gets two QMP monitors: one for
// the code under test, one for the test to check what QEMU really holds.
// The guest's htier channel is played by the test itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "htier/protocol/message.h"
#include "qmp/QmpClient.h"
#include "qmp/VirtioMem.h"
#include "status/MetricsTestUtil.h"
#include "status/StatusServer.h"
#include "util/Units.h"
#include "util/UnixSocket.h"

using namespace htier;
using json = nlohmann::json;

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

bool waitFor(const std::function<bool()>& pred, Millis ms) {
  for (Millis end = monotonicMillis() + ms; monotonicMillis() < end;) {
    if (pred())
      return true;
    ::usleep(20000);
  }
  return pred();
}

class QemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "qemu-system-x86_64 not installed";
    char tmpl[] = "/tmp/htier-qemu-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    qmp_ = dir_ + "/vm.qmp";
    check_ = dir_ + "/check.qmp";
    qemu_ = spawn({"qemu-system-x86_64",
                   "-machine",
                   "q35",
                   "-nodefaults",
                   "-display",
                   "none",
                   "-S",
                   "-m",
                   "1280M,slots=2,maxmem=4G",
                   "-object",
                   "memory-backend-ram,id=m0,size=1G",
                   "-object",
                   "memory-backend-ram,id=vmem0,size=1G",
                   "-object",
                   "memory-backend-ram,id=m1,size=256M",
                   "-object",
                   "memory-backend-ram,id=vmem1,size=512M",
                   "-numa",
                   "node,nodeid=0,memdev=m0",
                   "-numa",
                   "node,nodeid=1,memdev=m1",
                   "-device",
                   "virtio-mem-pci,id=vm0,memdev=vmem0,node=0,requested-size=0",
                   "-device",
                   "virtio-mem-pci,id=vs0,memdev=vmem1,node=1,requested-size=0",
                   "-qmp",
                   "unix:" + qmp_ + ",server=on,wait=off",
                   "-qmp",
                   "unix:" + check_ + ",server=on,wait=off"},
                  dir_ + "/qemu.log");
    ASSERT_GT(qemu_, 0);
    ASSERT_TRUE(
        waitFor([&] { return access(check_.c_str(), F_OK) == 0; }, 10000))
        << "QEMU did not create its QMP sockets";
    checker_ = std::make_unique<QmpClient>(makeUnixQmpTransport(check_), 5000);
    ASSERT_TRUE(waitFor([&] { return bool(checker_->connect()); }, 5000));
  }

  void TearDown() override {
    if (daemon_ > 0) {
      kill(daemon_, SIGKILL);
      waitpid(daemon_, nullptr, 0);
    }
    if (qemu_ > 0) {
      kill(qemu_, SIGKILL);
      waitpid(qemu_, nullptr, 0);
    }
    if (!dir_.empty() && !HasFailure())
      system(("rm -rf " + dir_).c_str());
    else if (!dir_.empty())
      std::fprintf(stderr, "logs kept in %s\n", dir_.c_str());
  }

  // A config for one VM, vm-a, on this QEMU (min 128 MiB, max 1 GiB).
  json daemonConfig(const std::string& channel, const std::string& status) {
    return {{"fast_capacity_bytes", 1 * kGiB},
            {"interval_ms", 200},
            {"hold_ms", 0},
            {"status_socket", status},
            {"vms",
             {{{"name", "vm-a"},
               {"qmp", qmp_},
               {"channel", channel},
               {"fast_device", "vm0"},
               {"min_fast_bytes", 128 * kMiB},
               {"max_fast_bytes", 1 * kGiB}}}}};
  }

  // Writes cfg to <name>.json, checks it with --check-config, and starts a
  // daemon on it that logs to <name>.log.
  pid_t startDaemon(const json& cfg, const std::string& name) {
    const std::string file = dir_ + "/" + name + ".json";
    std::ofstream(file) << cfg.dump(2);
    std::string check =
        std::string(HTIER_PROVISIOND) + " --check-config --config " + file;
    EXPECT_EQ(system((check + " >/dev/null").c_str()), 0);
    return spawn({HTIER_PROVISIOND, "--config", file},
                 dir_ + "/" + name + ".log");
  }

  std::string readLog(const std::string& name) {
    std::ifstream in(dir_ + "/" + name + ".log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  bool adoptedToItsMin() {
    return waitFor(
        [&] { return qomGet("vm0", "requested-size") == 128 * kMiB; }, 10000);
  }

  // The daemon's connection to the guest channel the test listens on
  // (the test plays the guest agent); invalid if none came.
  Fd acceptGuest(const Fd& agent) {
    auto readable = waitReadable(agent.get(), monotonicMillis() + 5000);
    if (!readable || !*readable)
      return Fd();
    return Fd(::accept(agent.get(), nullptr, nullptr));
  }

  static std::string reportLine(uint64_t hot, uint64_t fast, uint64_t slow) {
    protocol::ReportMessage r;
    r.seq = 1;
    r.hotSetBytes = hot;
    r.fastResidentBytes = fast;
    r.slowResidentBytes = slow;
    return protocol::encodeMessage(r) + "\n";
  }

  // Sends lines as the guest, then waits for the daemon to set vm0's
  // requested-size to bytes.
  ::testing::AssertionResult guestSaysThenVmGrowsTo(const Fd& guest,
                                                    const std::string& lines,
                                                    uint64_t bytes) {
    if (!writeAll(guest.get(), lines, monotonicMillis() + 1000))
      return ::testing::AssertionFailure() << "cannot write to the guest link";
    if (!waitFor([&] { return qomGet("vm0", "requested-size") == bytes; },
                 10000))
      return ::testing::AssertionFailure()
             << "requested-size is " << qomGet("vm0", "requested-size")
             << ", not " << bytes;
    return ::testing::AssertionSuccess();
  }

  uint64_t qomGet(const std::string& dev, const std::string& prop) {
    auto r = checker_->execute(
        "qom-get",
        {{"path", "/machine/peripheral/" + dev}, {"property", prop}});
    EXPECT_TRUE(r) << r.message();
    return r && r->is_number_unsigned() ? r->get<uint64_t>() : UINT64_MAX;
  }

  std::string dir_, qmp_, check_;
  pid_t qemu_ = -1, daemon_ = -1;
  std::unique_ptr<QmpClient> checker_;
};

}  // namespace

TEST_F(QemuTest, VirtioMemControlReadsAndResizesARealDevice) {
  QmpVmControl vm(
      std::make_unique<QmpClient>(makeUnixQmpTransport(qmp_), 5000));
  ASSERT_TRUE(vm.connect());
  auto info = vm.describe("vm0");
  ASSERT_TRUE(info) << info.message();
  EXPECT_EQ(info->blockBytes, 2 * kMiB);
  EXPECT_EQ(info->maxBytes, 1 * kGiB);
  EXPECT_EQ(info->sizeBytes, 0u);
  EXPECT_EQ(info->requestedBytes, 0u);
  auto slow = vm.describe("vs0");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->maxBytes, 512 * kMiB);

  ASSERT_TRUE(vm.setRequestedSize("vm0", 256 * kMiB));
  EXPECT_EQ(qomGet("vm0", "requested-size"), 256 * kMiB);
  EXPECT_EQ(qomGet("vm0", "size"), 0u);  // no guest driver to plug it

  auto bad = vm.setRequestedSize("vm0", 2 * kGiB);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("cannot exceed"), std::string::npos);
  auto missing = vm.describe("nosuch");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("DeviceNotFound"), std::string::npos);
}

TEST_F(QemuTest, QmpClientReconnectsAfterQemuRestartsTheMonitor) {
  QmpClient c(makeUnixQmpTransport(qmp_), 5000);
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.execute("query-status"));
  c.disconnect();
  ASSERT_TRUE(c.connect());  // QEMU accepts a new client on the monitor
  auto st = c.execute("query-status");
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["status"], "prelaunch");
}

TEST_F(QemuTest, DaemonGrowsAVmOnItsGuestsReportAndShowsStatus) {
  const std::string channel = dir_ + "/vm.sock";
  const std::string status = dir_ + "/status.sock";
  auto agent = listenUnix(channel);  // the test plays the guest agent
  ASSERT_TRUE(agent);
  std::string bin = HTIER_PROVISIOND;
  daemon_ = startDaemon(daemonConfig(channel, status), "daemon");

  // Adoption: the VM goes to its min guarantee, not beyond, until a report.
  ASSERT_TRUE(adoptedToItsMin());
  Fd guest = acceptGuest(*agent);
  ASSERT_TRUE(guest.valid());
  ASSERT_TRUE(guestSaysThenVmGrowsTo(
      guest, reportLine(512 * kMiB, 512 * kMiB, 0), 512 * kMiB));

  // The guest is told its new quota after the grow.
  std::string got;
  ASSERT_TRUE(waitFor(
      [&] {
        char buf[4096];
        ssize_t n = ::recv(guest.get(), buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
          got.append(buf, static_cast<size_t>(n));
        return got.find("\"fast_bytes\":536870912") != std::string::npos;
      },
      5000))
      << got;

  FILE* p =
      popen((bin + " status --json --status-socket " + status).c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  auto st = json::parse(out, nullptr, false);
  ASSERT_FALSE(st.is_discarded()) << out;
  EXPECT_EQ(st["vms"][0]["name"], "vm-a");
  EXPECT_EQ(st["vms"][0]["requested_bytes"], 512 * kMiB);
  EXPECT_EQ(st["vms"][0]["plugged_bytes"], 0u);
  EXPECT_EQ(st["vms"][0]["hot_set_bytes"], 512 * kMiB);
  EXPECT_EQ(st["vms"][0]["block_bytes"], 2 * kMiB);
  EXPECT_EQ(st["vms"][0]["device_max_bytes"], 1 * kGiB);

  kill(daemon_, SIGTERM);
  int wstatus = 0;
  waitpid(daemon_, &wstatus, 0);
  daemon_ = -1;
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  // Stopping the daemon changes no VM.
  EXPECT_EQ(qomGet("vm0", "requested-size"), 512 * kMiB);
}

// A fresh host has no runtime directory: the daemon makes it (0755), its
// status socket is 0660, and a second daemon for the same status socket
// refuses to start without touching the first one's socket.
TEST_F(QemuTest, DaemonMakesItsRuntimeDirAndRunsOnce) {
  const std::string status = dir_ + "/run/htier/provisiond.sock";
  json cfg = daemonConfig(dir_ + "/vm.sock", status);
  daemon_ = startDaemon(cfg, "first");
  ASSERT_TRUE(adoptedToItsMin()) << readLog("first");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/run/htier").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::lstat(status.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);

  pid_t second = startDaemon(cfg, "second");
  int wstatus = 0;
  ASSERT_TRUE(
      waitFor([&] { return waitpid(second, &wstatus, WNOHANG) > 0; }, 5000))
      << "a second daemon kept running";
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 1);
  EXPECT_NE(readLog("second").find("another htier-provisiond"),
            std::string::npos)
      << readLog("second");
  std::string cmd = std::string(HTIER_PROVISIOND) + " status --status-socket " +
                    status + " >/dev/null";
  EXPECT_EQ(system(cmd.c_str()), 0) << "the first daemon's socket is gone";
}

// A status socket that cannot be made is a warning: the VMs are still
// managed.
TEST_F(QemuTest, DaemonWithoutItsStatusSocketStillManagesTheVm) {
  std::ofstream(dir_ + "/not-a-dir") << "x";
  daemon_ = startDaemon(
      daemonConfig(dir_ + "/vm.sock", dir_ + "/not-a-dir/provisiond.sock"),
      "daemon");
  ASSERT_TRUE(adoptedToItsMin()) << readLog("daemon");
  EXPECT_NE(readLog("daemon").find("managing the VMs without it"),
            std::string::npos)
      << readLog("daemon");
}

#ifdef HTIER_HAVE_PROMETHEUS
// The daemon's /metrics, scraped over HTTP while it manages a real QEMU,
// says what its status document says (sizes, bounds, the guest's report,
// counters, rejected lines by reason), and passes promtool's lint.
TEST_F(QemuTest, DaemonServesMetricsThatEqualItsStatus) {
  const std::string channel = dir_ + "/vm.sock";
  const std::string status = dir_ + "/status.sock";
  auto agent = listenUnix(channel);
  ASSERT_TRUE(agent);
  uint16_t port = htier::testing::freeLoopbackPort();
  ASSERT_NE(port, 0);
  json cfg = daemonConfig(channel, status);
  cfg["metrics_listen"] = "127.0.0.1:" + std::to_string(port);
  daemon_ = startDaemon(cfg, "daemon");
  ASSERT_TRUE(adoptedToItsMin()) << readLog("daemon");
  Fd guest = acceptGuest(*agent);
  ASSERT_TRUE(guest.valid());
  // Two lines the daemon rejects, for the counters by reason, then a report.
  std::string lines = "garbage\n" +
                      json({{"v", 2}, {"type", "report"}}).dump() + "\n" +
                      reportLine(384 * kMiB, 400 * kMiB, 100 * kMiB);
  ASSERT_TRUE(guestSaysThenVmGrowsTo(guest, lines, 384 * kMiB));
  // QEMU holds the new size once it has answered the qom-set; the daemon
  // applies that answer on its next tick (until then the status says the
  // old requested-size, the VM charged at the larger of the two: see the
  // README, "What it does, every tick").  Wait for the daemon to say so.
  ASSERT_TRUE(waitFor(
      [&] {
        auto doc = fetchStatus(status, 3000);
        return doc && json::parse(*doc)["vms"][0]["requested_bytes"] ==
                          384 * kMiB;
      },
      5000))
      << readLog("daemon");

  // The policy runs every 200 ms: take the status and a scrape until both
  // come from the same tick.
  std::string body;
  json st;
  std::vector<std::string> bad = {"never compared"};
  for (int i = 0; i < 50 && !bad.empty(); i++) {
    auto doc = fetchStatus(status, 3000);
    auto scraped = htier::testing::httpGet(port, "/metrics");
    ASSERT_TRUE(doc) << doc.message();
    ASSERT_TRUE(scraped) << scraped.message();
    body = *scraped;
    st = json::parse(*doc);
    bad = htier::testing::metricsVersusStatus(
        htier::testing::parseExposition(body), st);
  }
  EXPECT_TRUE(bad.empty()) << ::testing::PrintToString(bad) << "\n" << body;
  auto m = htier::testing::parseExposition(body);
  const std::string vm = "{vm=\"vm-a\"}";
  EXPECT_EQ(m["htier_provisiond_fast_capacity_bytes"], 1.0 * kGiB);
  EXPECT_EQ(m["htier_provisiond_vm_fast_requested_bytes" + vm], 384.0 * kMiB);
  EXPECT_EQ(m["htier_provisiond_vm_quota_bytes" + vm], 384.0 * kMiB);
  EXPECT_EQ(m["htier_provisiond_vm_fast_plugged_bytes" + vm], 0.0);
  EXPECT_EQ(m["htier_provisiond_vm_min_fast_bytes" + vm], 128.0 * kMiB);
  EXPECT_EQ(m["htier_provisiond_vm_max_fast_bytes" + vm], 1.0 * kGiB);
  EXPECT_EQ(m["htier_provisiond_vm_guest_hot_set_bytes" + vm], 384.0 * kMiB);
  EXPECT_EQ(m["htier_provisiond_vm_guest_reports_total" + vm], 1.0);
  // To its min on adoption, then to the hot set.
  EXPECT_EQ(m["htier_provisiond_vm_resizes_total" + vm], 2.0);
  EXPECT_GE(m["htier_provisiond_vm_decisions_total" + vm], 1.0);
  EXPECT_EQ(m["htier_provisiond_vm_qmp_errors_total" + vm], 0.0);
  EXPECT_EQ(m["htier_provisiond_vm_guest_messages_rejected_total{vm=\"vm-a\","
              "reason=\"not_json\"}"],
            1.0);
  EXPECT_EQ(m["htier_provisiond_vm_guest_messages_rejected_total{vm=\"vm-a\","
              "reason=\"bad_version\"}"],
            1.0);
  EXPECT_EQ(st["vms"][0]["rejected_messages"], 2u);
  if (!htier::testing::havePromtool())
    GTEST_SKIP() << "promtool not installed (Debian's prometheus package)";
  auto [rc, said] = htier::testing::promtoolCheck(body);
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << "promtool found problems in:\n" << body;
}

// A metrics port that cannot be bound is a warning: the VMs are still
// managed (as without the status socket).
TEST_F(QemuTest, DaemonWithItsMetricsPortTakenStillManagesTheVm) {
  uint16_t port = htier::testing::freeLoopbackPort();
  ASSERT_NE(port, 0);
  Fd taken(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(taken.get(), 1), 0);
  json cfg = daemonConfig(dir_ + "/vm.sock", dir_ + "/status.sock");
  cfg["metrics_listen"] = "127.0.0.1:" + std::to_string(port);
  daemon_ = startDaemon(cfg, "daemon");
  ASSERT_TRUE(adoptedToItsMin()) << readLog("daemon");
  ASSERT_TRUE(waitFor(
      [&] {
        return readLog("daemon").find("managing the VMs without them") !=
               std::string::npos;
      },
      5000))
      << readLog("daemon");
  std::string cmd = std::string(HTIER_PROVISIOND) + " status --status-socket " +
                    dir_ + "/status.sock >/dev/null";
  EXPECT_EQ(system(cmd.c_str()), 0) << "the status socket is not served";
}
#endif

// SPDX-License-Identifier: GPL-2.0
//
// LibvirtVmControl through libvirt's own API against libvirt's test driver
// (test:///FILE: domains kept in memory, fresh for each connection; see
// testdata/test-driver-node.xml).  The test driver has no virtio-mem
// resize (virDomainUpdateDeviceFlags is not implemented), no aliases and
// so no VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE: the tests play that
// event's part through the handler its callback calls; the resize itself,
// real size events and libvirtd going away are tested against a real
// libvirtd in tests/vm/e2e_libvirt.py.  A libvirtd that accepts and never
// answers is a unix socket of the test's own (FakeLibvirtd).
#include "libvirt/LibvirtVmControl.h"

#include <gtest/gtest.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "util/UnixSocket.h"

using namespace htier;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string testUri() {
  return std::string("test://") + HTIER_LIBVIRT_TESTDATA +
         "/test-driver-node.xml";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

Millis msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - t)
      .count();
}

// A libvirtd that accepts connections and never answers: a listening unix
// socket whose accepted connections are read from (so the client's writes
// never block) and never written to.  close() ends them all: a client
// still waiting then gets EOF.
class FakeLibvirtd {
 public:
  FakeLibvirtd() {
    char dir[] = "/tmp/htier-fake-libvirtd-XXXXXX";
    if (!mkdtemp(dir))
      return;
    dir_ = dir;
    path_ = dir_ + "/libvirt-sock";
    auto l = listenUnix(path_);
    if (!l)
      return;
    listen_ = std::move(*l);
    if (::pipe(stop_) < 0)
      return;
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeLibvirtd() {
    close();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  bool ok() const { return thread_.joinable(); }
  std::string uri() const { return "qemu+unix:///system?socket=" + path_; }
  const std::string& path() const { return path_; }
  int accepted() const { return accepted_; }
  void close() {
    if (!thread_.joinable())
      return;
    char c = 0;
    (void)!::write(stop_[1], &c, 1);
    thread_.join();
    listen_.reset();  // refused from now on
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

 private:
  void serve() {
    std::vector<Fd> clients;
    for (;;) {
      std::vector<pollfd> fds{{stop_[0], POLLIN, 0},
                              {listen_.get(), POLLIN, 0}};
      for (const Fd& c : clients)
        fds.push_back({c.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
        return;
      if (fds[0].revents)
        return;  // clients and the listener close with this frame
      if (fds[1].revents & POLLIN) {
        int c = ::accept(listen_.get(), nullptr, nullptr);
        if (c >= 0) {
          clients.emplace_back(c);
          accepted_++;
        }
      }
      char buf[4096];
      for (size_t i = 2; i < fds.size(); i++)
        if (fds[i].revents)
          (void)!::read(fds[i].fd, buf, sizeof buf);
    }
  }

  std::string dir_, path_;
  Fd listen_;
  int stop_[2] = {-1, -1};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Runs @fn on a thread of its own and waits up to @limitMs for it: a call
// that hangs fails the test instead of hanging it (the caller then ends
// what it hangs on, e.g. FakeLibvirtd::close(), and waits again).
class Bounded {
 public:
  template <class Fn>
  explicit Bounded(Fn fn) {
    thread_ = std::thread([this, fn = std::move(fn)]() mutable {
      fn();
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cv_.notify_all();
    });
  }
  ~Bounded() { thread_.join(); }
  bool wait(Millis limitMs) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(limitMs),
                        [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

TEST(LibvirtVmControl, FindsTheDevicesByNodeAndTheChannel) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  EXPECT_FALSE(c.connected());
  auto st = c.connect();
  ASSERT_TRUE(st) << st.message();
  EXPECT_TRUE(c.connected());
  auto d = c.findDevices({});
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->fast, "node0");  // the test driver gives no alias
  ASSERT_TRUE(d->slow);
  EXPECT_EQ(*d->slow, "node1");
  ASSERT_TRUE(d->channelPath);
  EXPECT_EQ(*d->channelPath, "/run/htier/vm-a.sock");

  auto fast = c.describe(d->fast);
  ASSERT_TRUE(fast) << fast.message();
  EXPECT_EQ(fast->blockBytes, 2 * kMiB);
  EXPECT_EQ(fast->maxBytes, 512 * kMiB);
  EXPECT_EQ(fast->requestedBytes, 128 * kMiB);
  EXPECT_EQ(fast->sizeBytes, 0u);
  auto req = c.requestedSize(*d->slow);
  ASSERT_TRUE(req) << req.message();
  EXPECT_EQ(*req, 64 * kMiB);
  auto size = c.size(d->fast);
  ASSERT_TRUE(size) << size.message();
  EXPECT_EQ(*size, 0u);
  auto missing = c.size("virtiomem7");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.message(), "no virtio-mem device 'virtiomem7'"))
      << missing.message();
  EXPECT_TRUE(c.connected());
}

// A resize the driver refuses is an error value with libvirt's message;
// the connection stays up.
TEST(LibvirtVmControl, AFailedResizeIsAnErrorWithLibvirtsMessage) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  ASSERT_TRUE(c.connect());
  auto st = c.setRequestedSize("node0", 256 * kMiB);
  ASSERT_FALSE(st);
  EXPECT_TRUE(contains(st.message(), "domain 'vm-a'")) << st.message();
  EXPECT_TRUE(contains(st.message(), "virDomainUpdateDeviceFlags"))
      << st.message();
  EXPECT_TRUE(c.connected());
  // An unaligned request is refused before libvirt sees it.
  auto odd = c.setRequestedSize("node0", 256 * kMiB + 512);
  ASSERT_FALSE(odd);
  EXPECT_TRUE(contains(odd.message(), "KiB")) << odd.message();
}

// Not defined, or not running: no QEMU (ENOENT, as a QMP socket that is
// gone), so that the engine's grace period and release apply.
TEST(LibvirtVmControl, MissingOrStoppedDomainIsAbsent) {
  for (const char* name : {"no-such-domain", "stopped"}) {
    LibvirtVmControl c(testUri(), name, 2000);
    auto st = c.connect();
    ASSERT_FALSE(st) << name;
    EXPECT_EQ(st.error().sysErrno, ENOENT) << st.message();
    EXPECT_TRUE(contains(st.message(), std::string("domain '") + name + "'"))
        << st.message();
    EXPECT_FALSE(c.connected());
  }
}

// libvirtd unreachable is not QEMU gone: no ENOENT, the VM stays charged.
TEST(LibvirtVmControl, UnreachableLibvirtIsNotAbsence) {
  LibvirtVmControl c("qemu:///system?socket=/nonexistent/libvirt-sock", "vm-a",
                     2000);
  auto st = c.connect();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().sysErrno, ENOENT);
  EXPECT_TRUE(contains(st.message(), "/nonexistent/libvirt-sock"))
      << st.message();
  EXPECT_FALSE(c.connected());
}

// A domain without the device on node 0: a clear error naming it.
TEST(LibvirtVmControl, DomainWithoutTheFastDeviceIsAClearError) {
  LibvirtVmControl c(testUri(), "no-device", 2000);
  ASSERT_TRUE(c.connect());
  auto d = c.findDevices({});
  ASSERT_FALSE(d);
  EXPECT_TRUE(contains(d.message(), "domain 'no-device'")) << d.message();
  EXPECT_TRUE(contains(d.message(), "virtio-mem")) << d.message();
  EXPECT_TRUE(contains(d.message(), "node 0")) << d.message();
}

// interrupt() (shutdown) makes every later call fail at once.
TEST(LibvirtVmControl, InterruptMakesLaterCallsFail) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.describe("node0"));
  c.interrupt();
  auto st = c.describe("node0");
  ASSERT_FALSE(st);
  EXPECT_TRUE(contains(st.message(), "interrupted")) << st.message();
  EXPECT_FALSE(c.setRequestedSize("node0", 128 * kMiB));
  EXPECT_FALSE(c.connect());
}

// libvirt's errors come back as values and are not printed on stderr.
TEST(LibvirtVmControl, LibvirtPrintsNothing) {
  fflush(stderr);
  int saved = dup(2);
  char path[] = "/tmp/htier-libvirt-stderr-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  dup2(fd, 2);
  {
    LibvirtVmControl c(testUri(), "no-such-domain", 2000);
    (void)c.connect();
    LibvirtVmControl d("qemu:///system?socket=/nonexistent/sock", "x", 2000);
    (void)d.connect();
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  off_t n = lseek(fd, 0, SEEK_END);
  close(fd);
  unlink(path);
  EXPECT_EQ(n, 0);
}

// A libvirtd that accepts the connection and never answers: connect()
// gives up after about the timeout with an error that says so (not ENOENT:
// the domain may run on), and the destructor does not wait for it either.
TEST(LibvirtVmControl, AHungLibvirtdFailsConnectWithinTheTimeout) {
  FakeLibvirtd fake;
  ASSERT_TRUE(fake.ok());
  auto c = std::make_unique<LibvirtVmControl>(fake.uri(), "vm-a", 1000);
  Status st = okStatus();
  Millis took = -1;
  {
    Bounded call([&] {
      auto t0 = std::chrono::steady_clock::now();
      st = c->connect();
      took = msSince(t0);
    });
    if (!call.wait(5000)) {
      ADD_FAILURE() << "connect() to a libvirtd that never answers did not "
                       "return within 5 s (timeout 1 s)";
      fake.close();  // virConnectOpen gets EOF and returns
      ASSERT_TRUE(call.wait(10000));
    }
  }
  ASSERT_FALSE(st);
  EXPECT_GE(took, 900);
  EXPECT_LT(took, 3000);
  EXPECT_NE(st.error().sysErrno, ENOENT);
  EXPECT_TRUE(contains(st.message(), fake.path())) << st.message();
  EXPECT_TRUE(contains(st.message(), "no answer")) << st.message();
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(fake.accepted(), 1);

  // The next attempt waits for the same open: no second connection (one
  // thread and one socket per VM however long libvirtd hangs).
  auto again = c->connect();
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.message(), "no answer")) << again.message();
  EXPECT_EQ(fake.accepted(), 1);

  Millis destroyed = -1;
  {
    Bounded call([&] {
      auto t0 = std::chrono::steady_clock::now();
      c.reset();
      destroyed = msSince(t0);
    });
    if (!call.wait(5000)) {
      ADD_FAILURE() << "the destructor waited for a hung virConnectOpen";
      fake.close();
      ASSERT_TRUE(call.wait(10000));
    }
  }
  EXPECT_LT(destroyed, 500);
  // The open given up ends when libvirtd does (EOF here), on its own.
  fake.close();
}

// interrupt() (shutdown) ends a connect() that waits for libvirtd at once,
// however long the timeout.
TEST(LibvirtVmControl, InterruptEndsAHungConnectAtOnce) {
  FakeLibvirtd fake;
  ASSERT_TRUE(fake.ok());
  LibvirtVmControl c(fake.uri(), "vm-a", 60000);
  Status st = okStatus();
  Millis afterInterrupt = -1;
  std::chrono::steady_clock::time_point t0;
  {
    Bounded call([&] { st = c.connect(); afterInterrupt = msSince(t0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    t0 = std::chrono::steady_clock::now();
    c.interrupt();
    if (!call.wait(5000)) {
      ADD_FAILURE() << "interrupt() did not end a connect() waiting for a "
                       "libvirtd that never answers";
      fake.close();
      ASSERT_TRUE(call.wait(10000));
    }
  }
  ASSERT_FALSE(st);
  EXPECT_LT(afterInterrupt, 500);
  EXPECT_TRUE(contains(st.message(), "interrupted")) << st.message();
  fake.close();
}

// ---- sizes from VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE ---------------

// Seeded from the live XML at connect; then the events keep the plugged
// size current and a size poll reads no XML (no libvirt call).
TEST(LibvirtVmControl, SizesFollowTheEventsWithoutAnXmlReadPerPoll) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.followsSizeEvents());
  ASSERT_EQ(c.sizeEvents(), std::optional<uint64_t>(0));
  uint64_t reads = c.xmlReads();
  EXPECT_GE(reads, 1u);  // the seed
  for (int i = 0; i < 20; i++) {
    auto size = c.size("node0");
    ASSERT_TRUE(size) << size.message();
    EXPECT_EQ(*size, 0u);
    ASSERT_TRUE(c.requestedSize("node1"));
  }
  EXPECT_EQ(c.xmlReads(), reads);

  c.memoryDeviceSizeChanged("node0", 131072);  // KiB
  auto size = c.size("node0");
  ASSERT_TRUE(size) << size.message();
  EXPECT_EQ(*size, 128 * kMiB);
  auto info = c.describe("node0");
  ASSERT_TRUE(info) << info.message();
  EXPECT_EQ(info->sizeBytes, 128 * kMiB);
  EXPECT_EQ(info->requestedBytes, 128 * kMiB);  // from the XML
  auto other = c.size("node1");  // an event for one device only
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, 0u);
  c.memoryDeviceSizeChanged("node1", 65536);
  c.memoryDeviceSizeChanged("node0", 65536);  // the latest counts
  EXPECT_EQ(*c.size("node0"), 64 * kMiB);
  EXPECT_EQ(*c.size("node1"), 64 * kMiB);
  EXPECT_EQ(c.xmlReads(), reads);
  EXPECT_EQ(c.sizeEvents(), std::optional<uint64_t>(3));
  EXPECT_TRUE(c.connected());
}

// Events may never come (or be lost): the XML is read again every
// xmlRefreshMs all the same, and what it says replaces older events.
TEST(LibvirtVmControl, TheXmlIsReadAgainNowAndThenAsASafetyNet) {
  LibvirtVmControl c(testUri(), "vm-a", 2000, 200);
  ASSERT_TRUE(c.connect());
  c.memoryDeviceSizeChanged("node0", 131072);
  uint64_t reads = c.xmlReads();
  EXPECT_EQ(*c.size("node0"), 128 * kMiB);
  EXPECT_EQ(c.xmlReads(), reads);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto size = c.size("node0");
  ASSERT_TRUE(size) << size.message();
  EXPECT_EQ(c.xmlReads(), reads + 1);
  EXPECT_EQ(*size, 0u);  // the test driver's XML: nothing plugged
  // An event after that read counts again.
  c.memoryDeviceSizeChanged("node0", 2048);
  EXPECT_EQ(*c.size("node0"), 2 * kMiB);
}

// A reconnect (events may have been missed meanwhile) seeds the sizes
// from the XML again; what the old connection's events said is dropped,
// and the count of events goes on.
TEST(LibvirtVmControl, AReconnectReadsTheSizesAgain) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  ASSERT_TRUE(c.connect());
  c.memoryDeviceSizeChanged("node0", 131072);
  EXPECT_EQ(*c.size("node0"), 128 * kMiB);
  ASSERT_TRUE(c.connect());
  EXPECT_EQ(*c.size("node0"), 0u);
  EXPECT_EQ(c.sizeEvents(), std::optional<uint64_t>(1));
  c.memoryDeviceSizeChanged("node0", 4096);
  EXPECT_EQ(*c.size("node0"), 4 * kMiB);
  EXPECT_EQ(c.sizeEvents(), std::optional<uint64_t>(2));
}

// An event libvirt should never send (no alias, a size no device can
// have) is not believed: the XML is read again instead.
TEST(LibvirtVmControl, AMalformedSizeEventIsIgnoredAndTheXmlReadAgain) {
  LibvirtVmControl c(testUri(), "vm-a", 2000);
  ASSERT_TRUE(c.connect());
  uint64_t reads = c.xmlReads();
  c.memoryDeviceSizeChanged(nullptr, 4096);
  c.memoryDeviceSizeChanged("node0", 1ull << 60);  // KiB: 2^70 bytes
  auto size = c.size("node0");
  ASSERT_TRUE(size) << size.message();
  EXPECT_EQ(*size, 0u);
  EXPECT_EQ(c.xmlReads(), reads + 1);
  EXPECT_EQ(c.sizeEvents(), std::optional<uint64_t>(0));
  EXPECT_TRUE(c.connected());
}

// A real event through libvirt's event loop: the test driver's shared
// test:///default sends a lifecycle event when its domain "test" is
// destroyed from another connection; the next call reads the XML again
// (not the safety net: 60 s here) and finds the domain gone.
TEST(LibvirtVmControl, ALifecycleEventMakesTheNextCallReadTheXml) {
  const char* uri = "test:///default";
  LibvirtVmControl c(uri, "test", 2000, 60000);
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.followsSizeEvents());
  auto before = c.size("virtiomem0");  // "test" has no virtio-mem
  ASSERT_FALSE(before);
  EXPECT_TRUE(contains(before.message(), "no virtio-mem device"));
  uint64_t reads = c.xmlReads();

  virConnectPtr other = virConnectOpen(uri);
  ASSERT_NE(other, nullptr);
  virDomainPtr dom = virDomainLookupByName(other, "test");
  ASSERT_NE(dom, nullptr);
  ASSERT_EQ(virDomainDestroy(dom), 0);
  Error last;
  auto t0 = std::chrono::steady_clock::now();
  while (msSince(t0) < 5000) {
    auto s = c.size("virtiomem0");
    last = s.error();
    if (last.sysErrno == ENOENT)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(last.sysErrno, ENOENT) << last.message;
  EXPECT_TRUE(contains(last.message, "not running")) << last.message;
  EXPECT_EQ(c.xmlReads(), reads + 1);
  EXPECT_FALSE(c.connected());
  // test:///default lives as long as the process: leave it as found.
  EXPECT_EQ(virDomainCreate(dom), 0);
  virDomainFree(dom);
  virConnectClose(other);
}

// SPDX-License-Identifier: GPL-2.0
//
// LibvirtVmControl through libvirt's own API against libvirt's test driver
// (test:///FILE: domains kept in memory, fresh for each connection; see
// testdata/test-driver-node.xml).  The test driver has no virtio-mem
// resize (virDomainUpdateDeviceFlags is not implemented) and no aliases:
// the resize itself, and libvirtd going away, are tested against a real
// libvirtd in tests/vm/e2e_libvirt.py.
#include "libvirt/LibvirtVmControl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

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

// SPDX-License-Identifier: GPL-2.0
//
// The guest link against a real unix socket standing in for QEMU's
// -chardev socket,server=on: connect, report in, quota out, reconnect.
#include "link/GuestLink.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/TestTempDir.h"
#include "util/Units.h"

using namespace htier;

namespace {

class GuestLinkTest : public ::testing::Test {
 protected:
  htier::testing::TempDir tmp_{"htier-link"};
  std::string path_ = tmp_.path() + "/ch.sock";

  Fd acceptOne(Fd& listener) {
    EXPECT_TRUE(*waitReadable(listener.get(), monotonicMillis() + 2000));
    return Fd(::accept(listener.get(), nullptr, nullptr));
  }

  // What the guest end received within a second (one recv).
  static std::string received(Fd& guest) {
    char buf[256];
    if (!*waitReadable(guest.get(), monotonicMillis() + 1000))
      return "";
    ssize_t n = ::recv(guest.get(), buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  // Polls until pred() or 2 s pass.
  template <class P>
  bool pollUntil(GuestLink& link, P pred) {
    for (Millis end = monotonicMillis() + 2000; monotonicMillis() < end;) {
      link.poll(monotonicMillis());
      if (pred())
        return true;
      ::usleep(5000);
    }
    return false;
  }
};

}  // namespace

TEST_F(GuestLinkTest, ReportsInQuotaOut) {
  auto listener = listenUnix(path_);
  ASSERT_TRUE(listener) << listener.message();
  GuestLink link("vm-a", path_, 8 * kGiB);
  link.poll(monotonicMillis());
  ASSERT_TRUE(link.connected());
  Fd guest = acceptOne(*listener);
  std::string report =
      R"({"v":1,"type":"report","seq":1,"fast_resident_bytes":2097152,)"
      R"("slow_resident_bytes":0,"hot_set_bytes":1048576,"quota_bytes":0,)"
      R"("samples_fast":0,"samples_slow":0})"
      "\n{bad}\n";
  ASSERT_TRUE(writeAll(guest.get(), report, monotonicMillis() + 1000));
  std::optional<GuestReport> got;
  ASSERT_TRUE(
      pollUntil(link, [&] { return (got = link.takeReport()).has_value(); }));
  EXPECT_EQ(got->hotSetBytes, 1u << 20);
  EXPECT_TRUE(pollUntil(link, [&] { return link.counters().malformed == 1; }));

  ASSERT_TRUE(link.sendQuota(512 * kMiB, 2000));
  auto j = nlohmann::json::parse(received(guest), nullptr, false);
  EXPECT_EQ(j["type"], "quota");
  EXPECT_EQ(j["fast_bytes"], 512 * kMiB);
  EXPECT_EQ(j["effective_in_ms"], 2000);
  EXPECT_EQ(j["seq"], 1);
}

TEST_F(GuestLinkTest, ReconnectsAfterThePeerGoesAway) {
  GuestLink link("vm-a", path_, 8 * kGiB);
  link.poll(monotonicMillis());  // nothing listening yet
  EXPECT_FALSE(link.connected());
  EXPECT_FALSE(link.sendQuota(1, 0));

  auto listener = listenUnix(path_);
  ASSERT_TRUE(listener);
  ASSERT_TRUE(pollUntil(link, [&] { return link.connected(); }));
  {
    Fd guest = acceptOne(*listener);
  }  // guest side closes: e.g. QEMU restarted the chardev
  ASSERT_TRUE(pollUntil(link, [&] { return !link.connected(); }));
  ASSERT_TRUE(pollUntil(link, [&] { return link.connected(); }));
  EXPECT_EQ(link.counters().connects, 2u);
}

// Issue 10 item 10: what the guest's reader holds from an earlier
// connection (a send that timed out half-way, a daemon killed mid-write)
// must not swallow the next quota.  Every connection's first message, and
// the first after a failed send, starts on a fresh line: the agent counts
// the fragment as one bad line and skips the empty one.
TEST_F(GuestLinkTest, FirstQuotaOnAConnectionStartsOnAFreshLine) {
  auto listener = listenUnix(path_);
  ASSERT_TRUE(listener) << listener.message();
  GuestLink link("vm-a", path_, 8 * kGiB);
  ASSERT_TRUE(pollUntil(link, [&] { return link.connected(); }));
  Fd guest = acceptOne(*listener);
  ASSERT_TRUE(link.sendQuota(512 * kMiB, 2000));
  // What the guest's reader holds from an earlier link, then this one's.
  std::string stream = R"({"v":1,"type":"quo)" + received(guest);

  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = stream.find('\n', at)) != std::string::npos;
       at = nl + 1)
    if (nl > at)  // the agent skips empty lines
      lines.push_back(stream.substr(at, nl - at));
  ASSERT_FALSE(lines.empty());
  auto quota = nlohmann::json::parse(lines.back(), nullptr, false);
  ASSERT_TRUE(quota.is_object()) << lines.back();
  EXPECT_EQ(quota["type"], "quota");
  EXPECT_EQ(quota["fast_bytes"], 512 * kMiB);
}

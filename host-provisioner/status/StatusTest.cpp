// SPDX-License-Identifier: GPL-2.0
#include "status/Status.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "status/StatusServer.h"
#include "util/TestTempDir.h"
#include "util/Units.h"

using namespace htier;

namespace {
EngineStatus sample() {
  EngineStatus s;
  s.policy = "utility";
  s.capacityBytes = 4 * kGiB;
  s.chargedBytes = 3 * kGiB;
  VmStatus v;
  v.name = "vm-a";
  v.phase = "active";
  v.quotaBytes = 1 * kGiB;
  v.pluggedBytes = 1 * kGiB;
  v.requestedBytes = 1 * kGiB;
  v.hasReport = true;
  v.hotSetBytes = 768 * kMiB;
  v.slowPluggedBytes = 512 * kMiB;
  v.reason = "utility 93% hits at this size";
  v.weight = 2.5;
  v.reportAgeMs = 1200;
  v.rejectedMessages = 3;
  v.rejectedByReason = {{"not_json", 1}, {"implausible", 2}};
  v.decisions = 4;
  v.resizes = 6;
  v.qmpErrors = 1;
  v.sizeEvents = 12;
  s.vms.push_back(v);
  v.name = "vm-b";
  v.sizeEvents.reset();
  v.stuck = true;
  v.hasReport = false;
  v.slowPluggedBytes.reset();
  v.lastError = "qom-set failed";
  s.vms.push_back(v);
  return s;
}
}  // namespace

TEST(Status, JsonRoundTrips) {
  EngineStatus s = sample();
  auto back = statusFromJson(statusToJson(s));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->vms.size(), 2u);
  EXPECT_EQ(statusToJson(*back), statusToJson(s));
  EXPECT_EQ(back->vms[0].slowPluggedBytes, 512 * kMiB);
  EXPECT_FALSE(back->vms[1].slowPluggedBytes);
  EXPECT_EQ(back->vms[0].sizeEvents, std::optional<uint64_t>(12));
  EXPECT_FALSE(back->vms[1].sizeEvents);
  EXPECT_EQ(back->vms[0].rejectedByReason.at("implausible"), 2u);
  EXPECT_EQ(back->vms[0].resizes, 6u);
  EXPECT_FALSE(statusFromJson("{}"));
}

TEST(Status, TableShowsEveryVmWithReasonAndFlags) {
  std::string t = statusToTable(sample());
  EXPECT_NE(t.find("vm-a"), std::string::npos);
  EXPECT_NE(t.find("768 MiB"), std::string::npos);
  EXPECT_NE(t.find("utility 93% hits"), std::string::npos);
  EXPECT_NE(t.find("active!stuck"), std::string::npos);
  EXPECT_NE(t.find("last error: qom-set failed"), std::string::npos);
  EXPECT_NE(t.find("free 1 GiB"), std::string::npos);
}

TEST(Status, ServedOverTheStatusSocket) {
  char tmpl[] = "/tmp/htier-status-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/s.sock";
  {
    auto server = StatusServer::listen(path);
    ASSERT_TRUE(server) << server.message();
    auto fd = connectUnix(path);
    ASSERT_TRUE(fd);
    server->serve(statusToJson(sample()));
    std::string got;
    char buf[4096];
    while (*waitReadable(fd->get(), monotonicMillis() + 1000)) {
      ssize_t n = ::read(fd->get(), buf, sizeof(buf));
      if (n <= 0)
        break;
      got.append(buf, static_cast<size_t>(n));
    }
    auto st = statusFromJson(got);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->vms[0].name, "vm-a");
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // removed on shutdown
  ::rmdir(tmpl);
}

// Text that reached the engine from a peer may be any bytes; the status
// document is still served, as valid UTF-8 JSON.
TEST(Status, NonUtf8TextIsServedAsValidJson) {
  EngineStatus s = sample();
  s.vms[0].lastError = "not a QMP greeting: \xff\xfe\xc3";
  s.vms[1].reason = "cut in the middle of \xe2\x82";
  std::string doc;
  EXPECT_NO_THROW(doc = statusToJson(s));
  auto back = statusFromJson(doc);
  ASSERT_TRUE(back) << doc;
  EXPECT_EQ(back->vms[0].lastError.rfind("not a QMP greeting: ", 0), 0u);
  EXPECT_EQ(back->vms[1].name, "vm-b");
}

namespace {

class StatusSocketTest : public ::testing::Test {
 protected:
  htier::testing::TempDir tmp_{"htier-status"};
  const std::string dir_ = tmp_.path();

  // Connects, has the server answer, and returns what it sent.
  static std::string fetchFrom(StatusServer& server, const std::string& path) {
    auto fd = connectUnix(path);
    if (!fd)
      return "connect failed: " + fd.message();
    server.serve("hello");
    char buf[64];
    if (!*waitReadable(fd->get(), monotonicMillis() + 1000))
      return "timed out";
    ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "read failed";
  }
};

}  // namespace

// On a fresh host the runtime directory is missing: it is made.  The
// socket's mode is 0660 whatever the umask.
TEST_F(StatusSocketTest, MadeInAMissingDirectoryWithAnExplicitMode) {
  const std::string path = dir_ + "/run/htier/provisiond.sock";
  mode_t old = ::umask(0);
  auto server = StatusServer::listen(path);
  ::umask(old);
  ASSERT_TRUE(server) << server.message();
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(fetchFrom(*server, path), "hello");
}

// A second server on the path of a live one fails and leaves the first
// serving; a stale socket file (nobody listening) is replaced.
TEST_F(StatusSocketTest, NeverReplacesALiveSocket) {
  const std::string path = dir_ + "/s.sock";
  auto first = StatusServer::listen(path);
  ASSERT_TRUE(first) << first.message();
  auto second = StatusServer::listen(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.message().find("in use"), std::string::npos)
      << second.message();
  EXPECT_EQ(fetchFrom(*first, path), "hello");

  {
    auto stale = listenUnix(dir_ + "/stale.sock");  // closed at once
    ASSERT_TRUE(stale);
  }
  EXPECT_TRUE(StatusServer::listen(dir_ + "/stale.sock"));
}

// On shutdown a server removes its own socket file only: not one that
// another process has put at the path since.
TEST_F(StatusSocketTest, ShutdownLeavesAnotherProcesssSocket) {
  const std::string path = dir_ + "/s.sock";
  auto old = std::make_unique<Maybe<StatusServer>>(StatusServer::listen(path));
  ASSERT_TRUE(*old);
  ASSERT_EQ(::unlink(path.c_str()), 0);  // replaced behind its back
  auto newer = StatusServer::listen(path);
  ASSERT_TRUE(newer) << newer.message();
  old.reset();
  EXPECT_EQ(fetchFrom(*newer, path), "hello");
}

// `htier-provisiond status` reads whatever serves the socket: a document
// of the wrong shape is read as far as it is right, never thrown on.
TEST(Status, DocumentOfTheWrongShapeIsNotThrownOn) {
  Maybe<EngineStatus> st = makeError("");
  EXPECT_NO_THROW(
      st = statusFromJson(R"({"policy": 1, "capacity_bytes": "4G",)"
                          R"( "charged_bytes": -1, "vms": [{"name": 2}, 3]})"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->policy, "");
  EXPECT_EQ(st->capacityBytes, 0u);
  ASSERT_EQ(st->vms.size(), 1u);
  EXPECT_EQ(st->vms[0].name, "");
}

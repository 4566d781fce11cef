// SPDX-License-Identifier: GPL-2.0
//
// QMP framing against a transcript recorded from QEMU 7.2 (Debian 12),
// qemu-system-x86_64 -S with a virtio-mem-pci device "vm0" backed by a
// 1 GiB memory-backend-ram "vmem0" (see qmp/testdata/README).  The scripted
// peer replays QEMU's bytes exactly, "\r\n" line ends and interleaved
// events included, and records what the client sends.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "htier/protocol/line_reader.h"
#include "qmp/QmpClient.h"
#include "qmp/VirtioMem.h"
#include "util/Units.h"

using namespace htier;
using json = nlohmann::json;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ScriptedTransport : public QmpTransport {
 public:
  ScriptedTransport(std::string bytes, std::vector<std::string>* sent)
      : sent_(sent) {
    lines_.feed(bytes);
  }
  Status open() override { return okStatus(); }
  void close() override { closed_ = true; }
  Status writeLine(const std::string& line, Millis) override {
    sent_->push_back(line);
    return okStatus();
  }
  Maybe<std::string> readLine(Millis, bool& timedOut) override {
    timedOut = false;
    if (auto l = lines_.next())
      return *l;
    if (hangAtEnd_) {
      timedOut = true;
      return makeError("timed out waiting for QMP");
    }
    return makeError("QMP socket closed by QEMU");
  }
  bool hangAtEnd_ = false;
  bool closed_ = false;

 private:
  protocol::LineReader lines_{1 << 20};
  std::vector<std::string>* sent_;
};

std::unique_ptr<QmpClient> clientFor(const std::string& bytes,
                                     std::vector<std::string>* sent,
                                     bool hang = false) {
  auto t = std::make_unique<ScriptedTransport>(bytes, sent);
  t->hangAtEnd_ = hang;
  return std::make_unique<QmpClient>(std::move(t), 100);
}

const char* kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, )"
    R"("package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}})"
    "\r\n";

}  // namespace

TEST(QmpClient, ReplaysRecordedQemu72Session) {
  std::string transcript = readFile(HTIER_TESTDATA "/qemu72-session.qmp");
  ASSERT_FALSE(transcript.empty());
  std::vector<std::string> sent;
  auto owned = clientFor(transcript, &sent);
  QmpClient& c = *owned;
  ASSERT_TRUE(c.connect());
  EXPECT_EQ(c.qemuVersion(), "7.2.22");
  ASSERT_EQ(sent.size(), 1u);
  auto first = json::parse(sent[0]);
  EXPECT_EQ(first["execute"], "qmp_capabilities");
  EXPECT_EQ(first["id"], 1);

  QmpVmControl vm(std::move(owned));
  // describe(): block-size, memdev -> backend size, then size and
  // requested-size; the transcript continues with cont/stop, so only the
  // first three answers are used here and the rest is read command by
  // command below.
  auto block = vm.client().execute(
      "qom-get",
      {{"path", "/machine/peripheral/vm0"}, {"property", "block-size"}});
  ASSERT_TRUE(block);
  EXPECT_EQ(*block, 2 * kMiB);
  auto memdev = vm.client().execute(
      "qom-get", {{"path", "/machine/peripheral/vm0"}, {"property", "memdev"}});
  ASSERT_TRUE(memdev);
  EXPECT_EQ(*memdev, "/objects/vmem0");
  auto backend = vm.client().execute(
      "qom-get", {{"path", "/objects/vmem0"}, {"property", "size"}});
  ASSERT_TRUE(backend);
  EXPECT_EQ(*backend, 1 * kGiB);

  ASSERT_TRUE(vm.client().execute("cont"));
  ASSERT_TRUE(vm.client().execute("stop"));
  auto events = vm.client().takeEvents();
  ASSERT_EQ(events.size(), 2u);  // arrived ahead of their replies
  EXPECT_EQ(events[0].name, "RESUME");
  EXPECT_EQ(events[1].name, "STOP");

  auto unaligned = vm.setRequestedSize("vm0", 1000);
  ASSERT_FALSE(unaligned);
  EXPECT_NE(unaligned.message().find("multiples of 'block-size'"),
            std::string::npos);
  EXPECT_NE(unaligned.message().find("GenericError"), std::string::npos);
  EXPECT_TRUE(vm.connected());  // an error reply is not a broken link

  ASSERT_TRUE(vm.setRequestedSize("vm0", 512 * kMiB));
  auto req = vm.client().execute(
      "qom-get",
      {{"path", "/machine/peripheral/vm0"}, {"property", "requested-size"}});
  ASSERT_TRUE(req);
  EXPECT_EQ(*req, 512 * kMiB);
  auto size = vm.size("vm0");
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 0u);  // paused guest: nothing plugged
  auto missing = vm.size("nosuch");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("DeviceNotFound"), std::string::npos);

  // What the client sent: integer ids in order, qom-set with an integer.
  ASSERT_EQ(sent.size(), 11u);
  for (size_t i = 0; i < sent.size(); i++)
    EXPECT_EQ(json::parse(sent[i])["id"], i + 1);
  auto set = json::parse(sent[7]);
  EXPECT_EQ(set["execute"], "qom-set");
  EXPECT_EQ(set["arguments"]["property"], "requested-size");
  EXPECT_TRUE(set["arguments"]["value"].is_number_unsigned());

  // End of transcript = QEMU went away: the client notices.
  EXPECT_FALSE(vm.size("vm0"));
  EXPECT_FALSE(vm.connected());
}

TEST(QmpClient, DescribeReadsBlockMaxSizeAndRequested) {
  std::string t = kGreeting;
  t += "{\"return\": {}, \"id\": 1}\r\n";
  t += "{\"return\": 2097152, \"id\": 2}\r\n";
  t += "{\"return\": \"/objects/vmem0\", \"id\": 3}\r\n";
  t += "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
       "\"MEMORY_DEVICE_SIZE_CHANGE\", \"data\": {\"id\": \"vm0\", \"size\": "
       "268435456, \"qom-path\": \"/machine/peripheral/vm0\"}}\r\n";
  t += "{\"return\": 1073741824, \"id\": 4}\r\n";
  t += "{\"return\": 268435456, \"id\": 5}\r\n";
  t += "{\"return\": 268435456, \"id\": 6}\r\n";
  std::vector<std::string> sent;
  QmpVmControl vm(clientFor(t, &sent));
  ASSERT_TRUE(vm.connect());
  auto info = vm.describe("vm0");
  ASSERT_TRUE(info) << info.message();
  EXPECT_EQ(info->blockBytes, 2 * kMiB);
  EXPECT_EQ(info->maxBytes, 1 * kGiB);
  EXPECT_EQ(info->sizeBytes, 256 * kMiB);
  EXPECT_EQ(info->requestedBytes, 256 * kMiB);
  EXPECT_EQ(json::parse(sent[3])["arguments"]["path"], "/objects/vmem0");
  auto ev = vm.client().takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data["size"], 256 * kMiB);
}

TEST(QmpClient, TimeoutKeepsConnectionAndDropsTheLateReply) {
  std::string t = kGreeting;
  t += "{\"return\": {}, \"id\": 1}\r\n";
  std::vector<std::string> sent;
  auto c = clientFor(t, &sent, /*hang=*/true);
  ASSERT_TRUE(c->connect());
  auto r = c->execute("query-status");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("timed out"), std::string::npos);
  EXPECT_TRUE(c->connected());
}

TEST(QmpClient, StaleAndAnonymousReplies) {
  std::string t = kGreeting;
  t += "{\"return\": {}, \"id\": 1}\r\n";
  t += "{\"return\": 5, \"id\": 99}\r\n";  // late reply to an old command
  t += "garbage that is not json\r\n";
  t += "{\"return\": 7, \"id\": 2}\r\n";
  t += "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
       "error, invalid keyword 'not'\"}}\r\n";
  std::vector<std::string> sent;
  auto c = clientFor(t, &sent);
  ASSERT_TRUE(c->connect());
  auto r = c->execute("x");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  auto e = c->execute("y");
  ASSERT_FALSE(e);
  EXPECT_NE(e.message().find("JSON parse error"), std::string::npos);
}

TEST(QmpClient, RejectsANonQmpPeer) {
  std::vector<std::string> sent;
  auto c = clientFor("SSH-2.0-OpenSSH\r\n", &sent);
  auto st = c->connect();
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("not a QMP greeting"), std::string::npos);
  EXPECT_FALSE(c->connected());
  auto c2 = clientFor("", &sent);
  EXPECT_FALSE(c2->connect());
}

TEST(QmpClient, CommandErrorsWhenCapabilitiesRefused) {
  std::string t = kGreeting;
  t += "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
       "\"nope\"}}\r\n";
  std::vector<std::string> sent;
  auto c = clientFor(t, &sent);
  auto st = c->connect();
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("qmp_capabilities: CommandNotFound"),
            std::string::npos);
}

// Valid JSON of the wrong shape is a protocol error, never an exception:
// a buggy or hostile peer on the QMP socket cannot end the daemon.
TEST(QmpClient, GreetingOfTheWrongShapeIsRefused) {
  std::vector<std::string> sent;
  auto connectTo = [&](const std::string& greeting) {
    auto c = clientFor(greeting + "\r\n{\"return\": {}, \"id\": 1}\r\n", &sent);
    Status st = okStatus();
    EXPECT_NO_THROW(st = c->connect()) << greeting;
    return std::make_pair(std::move(c), st);
  };
  for (const char* greeting : {"{\"QMP\": 1}", "{\"QMP\": [1]}"}) {
    auto [c, st] = connectTo(greeting);
    ASSERT_FALSE(st) << greeting;
    EXPECT_NE(st.message().find("not a QMP greeting"), std::string::npos)
        << st.message();
    EXPECT_FALSE(c->connected());
  }
  // A version of the wrong shape is only not known.
  for (const char* greeting :
       {"{\"QMP\": {\"version\": 7}}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"major\": \"7\"}}}}"}) {
    auto [c, st] = connectTo(greeting);
    EXPECT_TRUE(st) << greeting;
    EXPECT_EQ(c->qemuVersion(), "unknown");
  }
}

TEST(QmpClient, RepliesAndEventsOfTheWrongShapeAreErrors) {
  std::string t = kGreeting;
  t += "{\"return\": {}, \"id\": 1}\r\n";
  t += "{\"event\": 5}\r\n";                      // skipped
  t += "{\"event\": \"STOP\", \"data\": 3}\r\n";  // kept, data dropped
  t += "{\"id\": 2, \"error\": \"x\"}\r\n";       // error not an object
  t += "{\"id\": 3, \"error\": {\"class\": 1, \"desc\": [2]}}\r\n";
  t += "{\"id\": \"4\", \"return\": 1}\r\n";  // not our id: stale
  t += "{\"id\": 4, \"return\": 9}\r\n";
  std::vector<std::string> sent;
  auto c = clientFor(t, &sent);
  ASSERT_TRUE(c->connect());
  Maybe<json> r = json();
  EXPECT_NO_THROW(r = c->execute("a"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("a: malformed error reply"), std::string::npos)
      << r.message();
  EXPECT_NO_THROW(r = c->execute("b"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("b: malformed error reply"), std::string::npos)
      << r.message();
  EXPECT_NO_THROW(r = c->execute("c"));
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(*r, 9);
  EXPECT_TRUE(c->connected());
  auto ev = c->takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].name, "STOP");
}

// A qom-get answer of the wrong type is reported by its type: a deeply
// nested value is never dumped (recursively) into the error.
TEST(QmpClient, UnexpectedQomValueIsReportedByItsType) {
  std::string deep(20000, '[');
  deep += std::string(20000, ']');
  std::string t = kGreeting;
  t += "{\"return\": {}, \"id\": 1}\r\n";
  t += "{\"return\": " + deep + ", \"id\": 2}\r\n";
  std::vector<std::string> sent;
  QmpVmControl vm(clientFor(t, &sent));
  ASSERT_TRUE(vm.connect());
  auto size = vm.size("vm0");
  ASSERT_FALSE(size);
  EXPECT_NE(size.message().find("expected an unsigned integer, got an array"),
            std::string::npos)
      << size.message().substr(0, 200);
  EXPECT_LT(size.message().size(), 200u);
}

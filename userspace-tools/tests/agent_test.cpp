// SPDX-License-Identifier: GPL-2.0
//
// htier-agent's engine against a fake sysfs tree and a fake host on the
// other end of a socketpair.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <deque>
#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "fake_sysfs.h"

namespace htier::agent {
namespace {

using namespace std::chrono_literals;
using test::FakeSysfs;

// The host's end of one connection: reads lines, writes lines.
class FakeHost {
 public:
  explicit FakeHost(int fd) : fd_(fd) {}
  ~FakeHost() { close(); }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  // Next complete line within `timeout`, or nullopt.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[65536];
      ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // Next report message (skipping nothing: every line must be a report).
  std::optional<ReportMessage> readReport(std::chrono::milliseconds timeout = 3000ms) {
    auto line = readLine(timeout);
    if (!line) return std::nullopt;
    auto d = protocol::decodeMessage(*line);
    EXPECT_TRUE(std::holds_alternative<protocol::Message>(d)) << *line;
    if (!std::holds_alternative<protocol::Message>(d)) return std::nullopt;
    auto* r = std::get_if<ReportMessage>(&std::get<protocol::Message>(d));
    EXPECT_TRUE(r) << *line;
    return r ? std::optional(*r) : std::nullopt;
  }

 private:
  int fd_;
  std::string buf_;
};

// Hands out the agent ends of socketpairs, one per (re)connection.
class Connections {
 public:
  std::unique_ptr<FakeHost> accept() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ::fcntl(sv[0], F_SETFL, O_NONBLOCK);
    std::lock_guard lock(mu_);
    ready_.push_back(sv[0]);
    return std::make_unique<FakeHost>(sv[1]);
  }
  ChannelOpener opener() {
    return [this]() -> Result<int> {
      std::lock_guard lock(mu_);
      if (ready_.empty()) return Error{ECONNREFUSED, "no host listening"};
      int fd = ready_.front();
      ready_.pop_front();
      return fd;
    };
  }

 private:
  std::mutex mu_;
  std::deque<int> ready_;
};

AgentOptions fastOptions(const FakeSysfs& fake) {
  AgentOptions o;
  o.sysfsRoot = fake.root().string();
  o.interval = 200ms;
  o.minReportGap = 20ms;
  o.hostAbsentRetry = 30ms;
  o.backoffMin = 10ms;
  o.backoffMax = 50ms;
  o.quotaPollPeriod = 10ms;
  return o;
}

class AgentLoop : public ::testing::Test {
 protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  void start(AgentOptions o) {
    agent_ = std::make_unique<Agent>(std::move(o), conns_.opener());
    thread_ = std::thread([this] { rc_ = agent_->run(stop_); });
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  template <class Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  FakeSysfs fake_;
  Connections conns_;
  std::unique_ptr<Agent> agent_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int rc_ = -1;
};

TEST_F(AgentLoop, BuildReportReadsSysfsAndComputesCurve) {
  Agent agent(fastOptions(fake_), conns_.opener());
  auto r = agent.buildReport();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->fastResidentBytes, 134217728u);
  EXPECT_EQ(r->slowResidentBytes, 402653184u);
  EXPECT_EQ(r->hotSetBytes, 67108864u);
  EXPECT_EQ(r->quotaBytes, 268435456u);
  EXPECT_EQ(r->samplesFast, 9000u);
  ASSERT_TRUE(r->curve);
  EXPECT_EQ(r->curve->back().accessShare, 1.0);
  EXPECT_EQ(r->curve->back().fastBytes, 126100u * 4096);

  fake_.set("quota_bytes", "max", true);
  fake_.remove("stats/hotness_histogram");
  r = agent.buildReport();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->quotaBytes, protocol::kUnlimitedQuotaBytes);
  EXPECT_TRUE(r->quotaUnlimited);
  EXPECT_FALSE(r->curve);

  fake_.remove("stats/samples_fast");
  EXPECT_FALSE(agent.buildReport());
}

TEST_F(AgentLoop, AppliesQuotaAgainstFakeSysfs) {
  Agent agent(fastOptions(fake_), conns_.opener());
  agent.handleLine(R"({"v":1,"type":"quota","seq":4,"fast_bytes":100000000,"effective_in_ms":0})");
  EXPECT_EQ(fake_.get("quota_bytes"), "100000000");
  EXPECT_EQ(agent.counters().quotasReceived, 1u);
  // fast_resident (128 MiB) > 100 MB and the deadline is now: missed.
  EXPECT_EQ(agent.counters().quotaDeadlineMissed, 1u);

  fake_.set("stats/fast_resident_bytes", "1000");
  agent.handleLine(R"({"v":1,"type":"quota","seq":5,"fast_bytes":4096,"effective_in_ms":1000})");
  EXPECT_EQ(fake_.get("quota_bytes"), "4096");
  EXPECT_EQ(agent.counters().quotasReached, 1u);

  // The module refusing the write (here: quota_bytes became read-only).
  fake_.set("quota_bytes", "4096", false);
  agent.handleLine(R"({"v":1,"type":"quota","seq":6,"fast_bytes":8192,"effective_in_ms":10})");
  EXPECT_EQ(fake_.get("quota_bytes"), "4096");
  EXPECT_EQ(agent.counters().quotaWriteErrors, 1u);
}

TEST_F(AgentLoop, BadLinesAreCountedNotFatal) {
  Agent agent(fastOptions(fake_), conns_.opener());
  agent.handleLine("not json");
  agent.handleLine(R"({"v":1,"type":"nope"})");
  agent.handleLine(R"({"v":1,"type":"quota","seq":1,"fast_bytes":-1,"effective_in_ms":1})");
  EXPECT_EQ(agent.counters().badMessages, 3u);
  EXPECT_EQ(agent.counters().badByKind[static_cast<size_t>(DecodeError::kBadJson)], 1u);
  EXPECT_EQ(agent.counters().badByKind[static_cast<size_t>(DecodeError::kUnknownType)], 1u);
  EXPECT_EQ(agent.counters().badByKind[static_cast<size_t>(DecodeError::kBadField)], 1u);
  EXPECT_EQ(fake_.get("quota_bytes"), "268435456");
}

TEST_F(AgentLoop, ReportsThenAppliesQuotaWaitsForDemotionAndReportsAgain) {
  auto host = conns_.accept();
  start(fastOptions(fake_));
  auto first = host->readReport();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->seq, 1u);
  EXPECT_EQ(first->fastResidentBytes, 134217728u);
  EXPECT_TRUE(first->curve);

  host->send(R"({"v":1,"type":"quota","seq":9,"fast_bytes":67108864,"effective_in_ms":2000})");
  ASSERT_TRUE(waitFor([&] { return fake_.get("quota_bytes") == "67108864"; }));
  // The "module" demotes: residency drops under the new quota.
  fake_.set("stats/fast_resident_bytes", "60000000");
  ASSERT_TRUE(waitFor([&] { return agent_->counters().quotasReached == 1; }));
  // A report reflecting the new quota and residency follows.
  std::optional<ReportMessage> r;
  for (int i = 0; i < 20; ++i) {
    r = host->readReport();
    ASSERT_TRUE(r);
    if (r->quotaBytes == 67108864u && r->fastResidentBytes == 60000000u) break;
  }
  EXPECT_EQ(r->quotaBytes, 67108864u);
  EXPECT_EQ(r->lastQuotaSeq, 9u);
  EXPECT_GT(r->seq, first->seq);
}

TEST_F(AgentLoop, ReportsPeriodicallyAndOnChange) {
  auto host = conns_.accept();
  AgentOptions o = fastOptions(fake_);
  o.interval = 400ms;
  start(o);
  ASSERT_TRUE(host->readReport());
  // A hot-set jump well over the threshold is reported before the interval.
  auto t0 = std::chrono::steady_clock::now();
  fake_.set("stats/hot_set_bytes", std::to_string(512ull << 20));
  auto r = host->readReport(1000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hotSetBytes, 512ull << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 350ms);
  // Nothing changes: the next one comes from the interval.
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(host->readReport(1500ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST_F(AgentLoop, SurvivesGarbageAndOverlongLinesFromHost) {
  auto host = conns_.accept();
  start(fastOptions(fake_));
  ASSERT_TRUE(host->readReport());
  host->send("garbage");
  host->send(std::string(protocol::kMaxMessageBytes + 10, 'x'));
  host->send("{\"v\":1,\"type\":\"quota\",\"seq\":1}");
  host->send(R"({"v":1,"type":"quota","seq":2,"fast_bytes":4096,"effective_in_ms":10})");
  ASSERT_TRUE(waitFor([&] { return fake_.get("quota_bytes") == "4096"; }));
  EXPECT_EQ(agent_->counters().badMessages, 3u);
  EXPECT_EQ(agent_->counters().badByKind[static_cast<size_t>(DecodeError::kTooLong)], 1u);
  EXPECT_EQ(agent_->counters().opens, 1u);  // the connection stayed up
  EXPECT_TRUE(host->readReport());
}

// The host's resynchronisation (issue 10 item 10): a line cut short by a
// failed send, then a quota that starts with '\n'.  The fragment is one
// bad line, the empty line is skipped, the quota is applied.
TEST_F(AgentLoop, NewlineFromTheHostEndsAFragmentAndTheNextQuotaApplies) {
  auto host = conns_.accept();
  start(fastOptions(fake_));
  ASSERT_TRUE(host->readReport());
  std::string fragment = R"({"v":1,"type":"quota","seq":1,"fast_by)";
  ASSERT_EQ(::write(host->fd(), fragment.data(), fragment.size()), static_cast<ssize_t>(fragment.size()));
  host->send("\n" R"({"v":1,"type":"quota","seq":2,"fast_bytes":4096,"effective_in_ms":10})");
  ASSERT_TRUE(waitFor([&] { return fake_.get("quota_bytes") == "4096"; }));
  EXPECT_EQ(agent_->counters().badMessages, 1u);
}

TEST_F(AgentLoop, ReconnectsWhenTheHostRestarts) {
  start(fastOptions(fake_));
  // No host yet: the agent keeps retrying without giving up.
  ASSERT_TRUE(waitFor([&] { return agent_->counters().openFailures >= 2; }));
  auto host = conns_.accept();
  ASSERT_TRUE(host->readReport());
  host->close();  // host restarts
  auto host2 = conns_.accept();
  auto r = host2->readReport();
  ASSERT_TRUE(r);
  EXPECT_EQ(agent_->counters().opens, 2u);
  host2->send(R"({"v":1,"type":"quota","seq":1,"fast_bytes":8192,"effective_in_ms":10})");
  ASSERT_TRUE(waitFor([&] { return fake_.get("quota_bytes") == "8192"; }));
}

TEST_F(AgentLoop, OnceSendsOneReportAndExits) {
  auto host = conns_.accept();
  AgentOptions o = fastOptions(fake_);
  o.once = true;
  Agent agent(o, conns_.opener());
  std::atomic<bool> stop{false};
  EXPECT_EQ(agent.run(stop), 0);
  EXPECT_TRUE(host->readReport(500ms));
}

TEST_F(AgentLoop, OnceFailsWithoutHost) {
  AgentOptions o = fastOptions(fake_);
  o.once = true;
  o.onceTimeout = 200ms;
  Agent agent(o, conns_.opener());
  std::atomic<bool> stop{false};
  EXPECT_EQ(agent.run(stop), 1);
}

}  // namespace
}  // namespace htier::agent

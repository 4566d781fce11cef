// SPDX-License-Identifier: GPL-2.0
#include "qmp/QmpClient.h"

#include "htier/protocol/excerpt.h"
#include "util/Log.h"

namespace htier {

using json = nlohmann::json;

namespace {

// Only members of the expected type are used: QMP is JSON of a known
// shape, and a peer that sends another shape gets an error, not an
// exception.
const json* member(const json& obj, const char* key, json::value_t type) {
  if (!obj.is_object())
    return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->type() == type ? &*it : nullptr;
}

std::string versionOf(const json& qmp) {
  const json* version = member(qmp, "version", json::value_t::object);
  const json* qemu =
      version ? member(*version, "qemu", json::value_t::object) : nullptr;
  if (!qemu)
    return "unknown";
  std::string out;
  for (const char* part : {"major", "minor", "micro"}) {
    const json* n = member(*qemu, part, json::value_t::number_unsigned);
    if (!n)
      return "unknown";
    out += (out.empty() ? "" : ".") + std::to_string(n->get<uint64_t>());
  }
  return out;
}

}  // namespace

QmpClient::QmpClient(std::unique_ptr<QmpTransport> transport, Millis timeoutMs,
                     ClockFn clock)
    : transport_(std::move(transport)),
      timeoutMs_(timeoutMs),
      clock_(std::move(clock)) {}

void QmpClient::fail() {
  connected_ = false;
  transport_->close();
}

void QmpClient::disconnect() {
  fail();
}

Status QmpClient::connect() {
  fail();
  if (auto st = transport_->open(); !st)
    return st;
  Millis deadline = clock_() + timeoutMs_;
  bool timedOut = false;
  auto line = transport_->readLine(deadline, timedOut);
  if (!line) {
    fail();
    return makeError("no QMP greeting: " + line.message());
  }
  json greeting = json::parse(line.value(), nullptr, false);
  const json* qmp = member(greeting, "QMP", json::value_t::object);
  if (!qmp) {
    fail();
    return makeError("not a QMP greeting: " + protocol::printableExcerpt(line.value()));
  }
  version_ = versionOf(*qmp);
  connected_ = true;
  auto caps = execute("qmp_capabilities");
  if (!caps) {
    fail();
    return caps.error();
  }
  return okStatus();
}

Maybe<json> QmpClient::execute(const std::string& command,
                               const json& arguments) {
  if (!connected_)
    return makeError(command + ": QMP not connected");
  uint64_t id = nextId_++;
  json req = {{"execute", command}, {"id", id}};
  if (!arguments.is_null())
    req["arguments"] = arguments;
  Millis deadline = clock_() + timeoutMs_;
  if (auto st = transport_->writeLine(req.dump(), deadline); !st) {
    fail();
    return makeError(command + ": " + st.message());
  }
  return awaitReply(id, command, deadline);
}

Maybe<json> QmpClient::awaitReply(uint64_t id, const std::string& command,
                                  Millis deadline) {
  for (;;) {
    bool timedOut = false;
    auto line = transport_->readLine(deadline, timedOut);
    if (!line) {
      // On a timeout the stream is still in sync (replies carry ids), so
      // the connection is kept; anything else ends it.
      if (!timedOut)
        fail();
      return makeError(command + ": " + line.message());
    }
    json msg = json::parse(line.value(), nullptr, false);
    if (msg.is_discarded() || !msg.is_object()) {
      HLOG(kWarning) << "qmp: ignoring unparsable line: "
                     << protocol::printableExcerpt(line.value());
      continue;
    }
    if (msg.contains("event")) {
      const json* name = member(msg, "event", json::value_t::string);
      if (!name) {
        HLOG(kWarning) << "qmp: ignoring an event without a name: "
                       << protocol::printableExcerpt(line.value());
        continue;
      }
      if (events_.size() >= kMaxEvents)
        events_.pop_front();
      const json* data = member(msg, "data", json::value_t::object);
      events_.push_back({name->get<std::string>(), data ? *data : json()});
      continue;
    }
    auto idIt = msg.find("id");
    bool mine = idIt != msg.end() && idIt->is_number_unsigned() &&
                idIt->get<uint64_t>() == id;
    // QEMU answers a request it could not parse with an id-less error.
    bool anonymousError = idIt == msg.end() && msg.contains("error");
    if (!mine && !anonymousError) {
      HLOG(kDebug) << "qmp: dropping stale reply "
                   << protocol::printableExcerpt(line.value());
      continue;
    }
    if (auto err = msg.find("error"); err != msg.end()) {
      const json* cls = member(*err, "class", json::value_t::string);
      const json* desc = member(*err, "desc", json::value_t::string);
      if (!cls || !desc)
        return makeError(command + ": malformed error reply: " +
                         protocol::printableExcerpt(line.value()));
      return makeError(command + ": " + cls->get<std::string>() + ": " +
                       desc->get<std::string>());
    }
    auto ret = msg.find("return");
    if (ret == msg.end())
      return makeError(command + ": reply without return: " +
                       protocol::printableExcerpt(line.value()));
    return std::move(*ret);
  }
}

std::deque<QmpEvent> QmpClient::takeEvents() {
  std::deque<QmpEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace htier

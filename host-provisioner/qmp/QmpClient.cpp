// SPDX-License-Identifier: GPL-2.0
#include "qmp/QmpClient.h"

#include "util/Log.h"

namespace htier {

using json = nlohmann::json;

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
  if (greeting.is_discarded() || !greeting.is_object() ||
      !greeting.contains("QMP")) {
    fail();
    return makeError("not a QMP greeting: " + line.value().substr(0, 200));
  }
  const json& q = greeting["QMP"]["version"]["qemu"];
  if (q.is_object())
    version_ = std::to_string(q.value("major", 0)) + "." +
               std::to_string(q.value("minor", 0)) + "." +
               std::to_string(q.value("micro", 0));
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
                     << line.value().substr(0, 200);
      continue;
    }
    if (msg.contains("event")) {
      if (events_.size() >= kMaxEvents)
        events_.pop_front();
      events_.push_back({msg.value("event", ""),
                         msg.contains("data") ? msg["data"] : json()});
      continue;
    }
    auto idIt = msg.find("id");
    bool mine = idIt != msg.end() && idIt->is_number_unsigned() &&
                idIt->get<uint64_t>() == id;
    // QEMU answers a request it could not parse with an id-less error.
    bool anonymousError = idIt == msg.end() && msg.contains("error");
    if (!mine && !anonymousError) {
      HLOG(kDebug) << "qmp: dropping stale reply " << line.value();
      continue;
    }
    if (auto err = msg.find("error"); err != msg.end()) {
      return makeError(command + ": " + err->value("class", "Error") + ": " +
                       err->value("desc", "(no description)"));
    }
    if (!msg.contains("return"))
      return makeError(command + ": reply without return: " + line.value());
    return msg["return"];
  }
}

std::deque<QmpEvent> QmpClient::takeEvents() {
  std::deque<QmpEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// A synchronous QMP client: greeting, capabilities negotiation, commands
// tagged with increasing integer ids, asynchronous events queued while a
// reply is awaited, per-command timeouts.  A reply that arrives after its
// command timed out is recognised by its id and dropped.  After a transport
// failure the client is disconnected; connect() starts over.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "qmp/QmpTransport.h"

namespace htier {

struct QmpEvent {
  std::string name;
  nlohmann::json data;
};

class QmpClient {
 public:
  QmpClient(std::unique_ptr<QmpTransport> transport, Millis timeoutMs,
            ClockFn clock = monotonicMillis);

  Status connect();
  void disconnect();
  bool connected() const { return connected_; }

  // The "return" member of the reply, or the QMP error as text
  // ("<command>: <class>: <desc>").
  Maybe<nlohmann::json> execute(const std::string& command,
                                const nlohmann::json& arguments = nullptr);

  // Events seen so far (at most kMaxEvents, oldest dropped).
  std::deque<QmpEvent> takeEvents();
  const std::string& qemuVersion() const { return version_; }
  // Thread-safe: the command in progress (and any later one) fails at once.
  void interrupt() { transport_->interrupt(); }

  static constexpr size_t kMaxEvents = 256;

 private:
  Maybe<nlohmann::json> awaitReply(uint64_t id, const std::string& command,
                                   Millis deadline);
  void fail();

  std::unique_ptr<QmpTransport> transport_;
  Millis timeoutMs_;
  ClockFn clock_;
  bool connected_ = false;
  uint64_t nextId_ = 1;
  std::deque<QmpEvent> events_;
  std::string version_;
};

}  // namespace htier

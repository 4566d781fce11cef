// SPDX-License-Identifier: GPL-2.0
//
// The status snapshot as Prometheus metrics (text exposition format),
// served over HTTP by prometheus-cpp's exposer on the config's
// metrics_listen address.  Every metric is derived from the same
// EngineStatus that the status socket serves, so the two never disagree:
// the engine's thread publishes a snapshot, a scrape renders the latest
// one.  Names: htier_provisiond_*, base units (bytes, seconds), counters
// end in _total; per-VM series carry vm="<name>".
#pragma once

#include <memory>
#include <string>

#include "status/Status.h"
#include "util/Maybe.h"

namespace htier {

// True when built with prometheus-cpp (otherwise metrics_listen is
// rejected by the config parser, and MetricsServer::listen() fails).
bool metricsAvailable();

// The text exposition of a snapshot, exactly what /metrics serves for it
// (without the exposer's own exposer_* metrics).  Empty when built without
// prometheus-cpp.
std::string metricsText(const EngineStatus& s);

class MetricsServer {
 public:
  // Serves http://ADDRESS/metrics ("127.0.0.1:9464", "[::1]:9464") from
  // the exposer's own threads.  A port that cannot be bound is an error
  // value, never an exception.
  static Maybe<std::unique_ptr<MetricsServer>> listen(
      const std::string& address);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Called from the engine's thread; the next scrape shows this snapshot.
  // Takes a short lock to swap it in; no I/O happens under it.
  void publish(const EngineStatus& s);

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// Tells the service manager how the daemon is doing (sd_notify(3)): READY=1
// once it manages its VMs, WATCHDOG=1 from the main loop at half the
// watchdog interval systemd asks for (WatchdogSec= sets WATCHDOG_USEC), a
// one-line STATUS= when it changes, STOPPING=1 on the way out.  Outside
// systemd (no NOTIFY_SOCKET) or in a build without libsystemd every call
// does nothing, so the daemon runs the same by hand.
#pragma once

#include <string>

#include "util/Clock.h"

namespace htier {

class ServiceNotifier {
 public:
  ServiceNotifier();
  void ready(const std::string& status);
  // Called every loop iteration: pings the watchdog when due, sends
  // STATUS= when it differs from the last one sent.
  void tick(Millis now, const std::string& status);
  void stopping();
  // 0 when systemd runs no watchdog on us.
  Millis watchdogPingMs() const { return pingMs_; }

 private:
  Millis pingMs_ = 0;
  Millis lastPing_ = 0;
  std::string lastStatus_;
};

}  // namespace htier

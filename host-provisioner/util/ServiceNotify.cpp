// SPDX-License-Identifier: GPL-2.0
#include "util/ServiceNotify.h"

#ifdef HTIER_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "util/Log.h"

namespace htier {

namespace {

void notify(const std::string& state) {
#ifdef HTIER_HAVE_LIBSYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
#ifdef HTIER_HAVE_LIBSYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    pingMs_ = static_cast<Millis>(usec / 2000);  // half the interval, in ms
    if (pingMs_ == 0)
      pingMs_ = 1;
    HLOG(kInfo) << "systemd watchdog: pinging every " << pingMs_ << " ms";
  }
#endif
}

void ServiceNotifier::ready(const std::string& status) {
  lastStatus_ = status;
  lastPing_ = monotonicMillis();
  notify("READY=1\nSTATUS=" + status + (pingMs_ ? "\nWATCHDOG=1" : ""));
}

void ServiceNotifier::tick(Millis now, const std::string& status) {
  std::string msg;
  if (pingMs_ && now - lastPing_ >= pingMs_) {
    msg = "WATCHDOG=1";
    lastPing_ = now;
  }
  if (status != lastStatus_) {
    msg += (msg.empty() ? "STATUS=" : "\nSTATUS=") + status;
    lastStatus_ = status;
  }
  if (!msg.empty())
    notify(msg);
}

void ServiceNotifier::stopping() {
  notify("STOPPING=1\nSTATUS=stopping; VMs keep their current sizes");
}

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
#include "engine/Daemon.h"

#include <poll.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <optional>

#include "engine/Engine.h"
#include "libvirt/LibvirtVmControl.h"
#include "policy/PolicyRegistry.h"
#include "qmp/QmpTransport.h"
#include "status/Metrics.h"
#include "status/StatusServer.h"
#include "util/Log.h"
#include "util/RuntimeFiles.h"
#include "util/ServiceNotify.h"

namespace htier {

namespace {

constexpr Millis kTickMs = 100;
std::atomic<bool> gStop{false};

void onSignal(int) {
  gStop = true;
}

// systemd's STATUS= line (systemctl status): what the daemon manages now.
std::string statusLine(const EngineStatus& s) {
  size_t linked = 0;
  for (const auto& vm : s.vms)
    linked += vm.linkConnected;
  return std::to_string(s.vms.size()) + " VM(s), " + std::to_string(linked) +
         " guest(s) linked, charged " + formatBytes(s.chargedBytes) + " of " +
         formatBytes(s.capacityBytes) + " fast memory, policy " + s.policy;
}

}  // namespace

std::vector<VmPorts> makeDaemonPorts(const Config& cfg) {
  std::vector<VmPorts> ports;
  for (const auto& vm : cfg.vms) {
    std::unique_ptr<VmControl> control;
    if (vm.backend == Backend::kLibvirt)
      control = std::make_unique<LibvirtVmControl>(vm.libvirtUri, vm.domain,
                                                   cfg.qmpTimeoutMs);
    else
      control = std::make_unique<QmpVmControl>(std::make_unique<QmpClient>(
          makeUnixQmpTransport(vm.qmpPath), cfg.qmpTimeoutMs));
    // Bounds a guest's claims: it cannot hold more than all of its devices
    // and a generous allowance for boot memory.
    uint64_t maxMemory = vm.fastBaseBytes + vm.maxFastBytes +
                         vm.totalBytes.value_or(vm.maxFastBytes) + 1024 * kGiB;
    // A libvirt VM's channel path comes from its domain XML at adoption.
    ports.push_back({runOnThread(vm.name, std::move(control)),
                     std::make_unique<GuestLink>(vm.name, vm.channelPath,
                                                 maxMemory)});
  }
  return ports;
}

int runDaemon(const Config& cfg) {
  auto policy = makePolicy(cfg.policy);
  if (!policy) {
    HLOG(kError) << "unknown policy " << cfg.policy;
    return 1;
  }
  // One daemon per status socket: a second one would drive the same VMs.
  // A lock that cannot be made at all (no runtime directory) is only
  // warned about, like the status socket: managing the VMs comes first.
  auto lock = InstanceLock::acquire(cfg.statusSocket + ".lock");
  if (!lock && lock.error().sysErrno == EWOULDBLOCK) {
    HLOG(kError) << "not starting: " << lock.message();
    return 1;
  }
  if (!lock)
    HLOG(kWarning) << "instance lock: " << lock.message()
                   << "; a second daemon would not be stopped";
  std::optional<StatusServer> server;
  if (auto s = StatusServer::listen(cfg.statusSocket))
    server.emplace(std::move(s).value());
  else
    HLOG(kWarning) << "status socket: " << s.message()
                   << "; managing the VMs without it";
  Engine engine(cfg, std::move(policy), makeDaemonPorts(cfg));

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  HLOG(kInfo) << "htier-provisiond: policy " << cfg.policy << ", capacity "
              << formatBytes(cfg.fastCapacityBytes) << ", " << cfg.vms.size()
              << " VM(s), status on " << (server ? cfg.statusSocket : "(none)");
  // The first status waits for every VM's first QMP attempt (at most
  // qmp_timeout_ms and a little): before it, sizes are unknown and each VM
  // is charged its max.  Clients queue on the socket meanwhile.
  for (Millis until = monotonicMillis() + cfg.qmpTimeoutMs + 500;
       !gStop && !engine.firstQmpRoundDone() && monotonicMillis() < until;) {
    engine.tick();
    ::poll(nullptr, 0, 10);
  }
  // Metrics, like the status, once the sizes are known.  A port that
  // cannot be bound is a warning, as for the status socket.
  std::unique_ptr<MetricsServer> metrics;
  if (cfg.metricsListen) {
    if (auto m = MetricsServer::listen(*cfg.metricsListen)) {
      metrics = std::move(m).value();
      metrics->publish(engine.status());
      HLOG(kInfo) << "metrics on http://" << *cfg.metricsListen << "/metrics";
    } else {
      HLOG(kWarning) << "metrics: " << m.message()
                     << "; managing the VMs without them";
    }
  }
  // Ready once the VMs' sizes are known (systemd's READY=1).
  ServiceNotifier notifier;
  notifier.ready(statusLine(engine.status()));
  while (!gStop) {
    engine.tick();
    EngineStatus st = engine.status();
    // The watchdog is pinged only from here: a loop stuck in a tick stops
    // the pings and systemd restarts the daemon.
    notifier.tick(monotonicMillis(), statusLine(st));
    if (metrics)
      metrics->publish(st);
    pollfd p{server ? server->fd() : -1, POLLIN, 0};  // fd -1: just waits
    if (::poll(&p, 1, static_cast<int>(kTickMs)) > 0 && server)
      server->serve(statusToJson(engine.status()));
  }
  notifier.stopping();
  HLOG(kInfo) << "htier-provisiond: stopping; VMs keep their current sizes";
  return 0;
}

}  // namespace htier

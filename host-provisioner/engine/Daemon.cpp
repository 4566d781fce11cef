// SPDX-License-Identifier: GPL-2.0
#include "engine/Daemon.h"

#include <poll.h>
#include <signal.h>

#include <atomic>

#include "engine/Engine.h"
#include "policy/PolicyRegistry.h"
#include "qmp/QmpTransport.h"
#include "status/StatusServer.h"
#include "util/Log.h"

namespace htier {

namespace {

constexpr Millis kTickMs = 100;
std::atomic<bool> gStop{false};

void onSignal(int) {
  gStop = true;
}

}  // namespace

int runDaemon(const Config& cfg) {
  auto policy = makePolicy(cfg.policy);
  if (!policy) {
    HLOG(kError) << "unknown policy " << cfg.policy;
    return 1;
  }
  auto server = StatusServer::listen(cfg.statusSocket);
  if (!server) {
    HLOG(kError) << "status socket: " << server.message();
    return 1;
  }
  std::vector<VmPorts> ports;
  for (const auto& vm : cfg.vms) {
    auto client = std::make_unique<QmpClient>(makeUnixQmpTransport(vm.qmpPath),
                                              cfg.qmpTimeoutMs);
    // Bounds a guest's claims: it cannot hold more than all of its devices
    // and a generous allowance for boot memory.
    uint64_t maxMemory = vm.fastBaseBytes + vm.maxFastBytes +
                         vm.totalBytes.value_or(vm.maxFastBytes) + 1024 * kGiB;
    ports.push_back(
        {std::make_unique<QmpVmControl>(std::move(client)),
         std::make_unique<GuestLink>(vm.name, vm.channelPath, maxMemory)});
  }
  Engine engine(cfg, std::move(policy), std::move(ports));

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  HLOG(kInfo) << "htier-provisiond: policy " << cfg.policy << ", capacity "
              << formatBytes(cfg.fastCapacityBytes) << ", " << cfg.vms.size()
              << " VM(s), status on " << cfg.statusSocket;
  while (!gStop) {
    engine.tick();
    pollfd p{server->fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kTickMs)) > 0)
      server->serve(statusToJson(engine.status()));
  }
  HLOG(kInfo) << "htier-provisiond: stopping; VMs keep their current sizes";
  return 0;
}

}  // namespace htier

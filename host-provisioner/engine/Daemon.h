// SPDX-License-Identifier: GPL-2.0
//
// Wires a Config to real ports (QMP over unix sockets, guest links) and
// runs the engine until SIGINT/SIGTERM, serving the status socket.  On exit
// the VMs keep the sizes they have: stopping the daemon changes no VM.
#pragma once

#include <vector>

#include "config/Config.h"
#include "engine/Engine.h"

namespace htier {

int runDaemon(const Config& cfg);

// The real ports of every configured VM: QMP over its unix socket or its
// libvirt domain, the guest link on its channel.  runDaemon() drives an Engine over these; a
// test can too, against scripted peers on the configured paths.
std::vector<VmPorts> makeDaemonPorts(const Config& cfg);

}  // namespace htier

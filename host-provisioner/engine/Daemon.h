// SPDX-License-Identifier: GPL-2.0
//
// Wires a Config to real ports (QMP over unix sockets, guest links) and
// runs the engine until SIGINT/SIGTERM, serving the status socket.  On exit
// the VMs keep the sizes they have: stopping the daemon changes no VM.
#pragma once

#include "config/Config.h"

namespace htier {

int runDaemon(const Config& cfg);

}  // namespace htier

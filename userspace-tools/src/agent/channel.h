// SPDX-License-Identifier: GPL-2.0
//
// The agent's transport to the host is "something that opens a
// non-blocking fd": the virtio-serial port in a guest, a unix socket or a
// socketpair in tests.  The agent owns (and closes) every fd it gets.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"

namespace htier::agent {

using ChannelOpener = std::function<Result<int>()>;

struct PortOptions {
  std::optional<std::string> portPath;  // --port; else discover
  std::filesystem::path classDir = "/sys/class/virtio-ports";
  std::filesystem::path devDir = "/dev";
};

// Opens --port PATH (a character device, or a unix stream socket to
// connect to), else the discovered org.htier.0 port, O_NONBLOCK.
ChannelOpener virtioPortOpener(PortOptions options);

// Open `path` non-blocking: connect() for a unix socket, open() otherwise.
Result<int> openChannelPath(const std::string& path);

}  // namespace htier::agent

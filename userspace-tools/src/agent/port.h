// SPDX-License-Identifier: GPL-2.0
//
// Finding the agent's virtio-serial port without udev: scan
// /sys/class/virtio-ports/*/name for "org.htier.0" and use /dev/<vportNpM>,
// creating the device node from the port's `dev` file if it is missing.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace htier::agent {

inline constexpr const char* kPortName = "org.htier.0";
inline constexpr const char* kVirtioPortsClass = "/sys/class/virtio-ports";

struct DevNumber {
  unsigned major = 0, minor = 0;
};

// "252:1\n" -> {252, 1}
Result<DevNumber> parseDevNumber(std::string_view text);

struct PortLocation {
  std::string sysName;            // "vport1p1"
  std::filesystem::path devPath;  // "/dev/vport1p1"
  DevNumber dev;
};

// The port whose `name` is `portName` under `classDir`; devPath is under devDir.
Result<PortLocation> findPort(const std::filesystem::path& classDir = kVirtioPortsClass,
                              const std::filesystem::path& devDir = "/dev",
                              std::string_view portName = kPortName);

// Create devPath as a character device (0600) when it does not exist.
Status ensureDevNode(const PortLocation& port);

}  // namespace htier::agent

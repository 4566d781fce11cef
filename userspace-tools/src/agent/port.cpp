// SPDX-License-Identifier: GPL-2.0
#include "agent/port.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/sysfs.h"

namespace htier::agent {
namespace fs = std::filesystem;

Result<DevNumber> parseDevNumber(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return Error::msg("bad dev number '" + std::string(text) + "'");
  auto major = parseU64(text.substr(0, colon));
  auto minor = parseU64(text.substr(colon + 1));
  if (!major || !minor || *major > 0xfff || *minor > 0xfffff)
    return Error::msg("bad dev number '" + std::string(text) + "'");
  return DevNumber{static_cast<unsigned>(*major), static_cast<unsigned>(*minor)};
}

Result<PortLocation> findPort(const fs::path& classDir, const fs::path& devDir, std::string_view portName) {
  std::error_code ec;
  fs::directory_iterator it(classDir, ec);
  if (ec) return Error::fromErrno("cannot list " + classDir.string() + " (virtio_console not loaded?)", ec.value());
  for (const auto& entry : it) {
    Sysfs port(entry.path());
    auto name = port.read("name");
    if (!name || *name != portName) continue;
    auto devText = port.read("dev");
    if (!devText) return devText.error();
    auto dev = parseDevNumber(*devText);
    if (!dev) return dev.error();
    std::string sys = entry.path().filename().string();
    return PortLocation{sys, devDir / sys, *dev};
  }
  return Error{ENOENT, "no virtio-serial port named " + std::string(portName) + " under " + classDir.string()};
}

Status ensureDevNode(const PortLocation& port) {
  struct stat st {};
  if (::stat(port.devPath.c_str(), &st) == 0) return okStatus();
  if (errno != ENOENT) return Error::fromErrno("cannot stat " + port.devPath.string(), errno);
  if (::mknod(port.devPath.c_str(), S_IFCHR | 0600, makedev(port.dev.major, port.dev.minor)) != 0 && errno != EEXIST)
    return Error::fromErrno("cannot create " + port.devPath.string(), errno);
  return okStatus();
}

}  // namespace htier::agent

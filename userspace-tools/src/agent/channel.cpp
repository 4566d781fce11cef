// SPDX-License-Identifier: GPL-2.0
#include "agent/channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "agent/port.h"

namespace htier::agent {

Result<int> openChannelPath(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Error::msg("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::fromErrno("socket", errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      ::close(fd);
      return Error::fromErrno("cannot connect to " + path, err);
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error::fromErrno("cannot open " + path, errno);
  return fd;
}

ChannelOpener virtioPortOpener(PortOptions options) {
  return [options = std::move(options)]() -> Result<int> {
    if (options.portPath) return openChannelPath(*options.portPath);
    auto port = findPort(options.classDir, options.devDir);
    if (!port) return port.error();
    if (auto st = ensureDevNode(*port); !st) return st.error();
    return openChannelPath(port->devPath.string());
  };
}

}  // namespace htier::agent

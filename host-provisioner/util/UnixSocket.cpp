// SPDX-License-Identifier: GPL-2.0
#include "util/UnixSocket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace htier {

void Fd::reset(int fd) {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = fd;
}

namespace {

Maybe<sockaddr_un> makeAddr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return makeError("socket path '" + path + "' is empty or longer than " +
                     std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Keeps errno: a caller can tell "nothing listens there" from other
// failures.
Error sysError(const char* what, const std::string& path) {
  return errnoError(std::string(what) + " " + path);
}

// A socket file at path that a process still serves (connect succeeds, or
// its backlog is full) must not be replaced; one nobody listens on is
// stale.
Status replaceStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return okStatus();
  if (!S_ISSOCK(st.st_mode))
    return makeError("refusing to replace " + path +
                     ": exists and is not a socket");
  auto live = connectUnix(path);
  if (live || live.error().sysErrno != ECONNREFUSED)
    return makeError("refusing to replace " + path +
                     ": the socket is in use by another process");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return sysError("unlink stale socket", path);
  return okStatus();
}

}  // namespace

Maybe<Fd> connectUnix(const std::string& path) {
  auto addr = makeAddr(path);
  if (!addr)
    return addr.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid())
    return sysError("socket() for", path);
  // A unix connect completes or fails at once (EAGAIN only when the
  // listener's backlog is full, which we treat as a failure to retry).
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr.value()),
                sizeof(sockaddr_un)) != 0)
    return sysError("connect", path);
  return fd;
}

Maybe<Fd> listenUnix(const std::string& path, mode_t mode) {
  auto addr = makeAddr(path);
  if (!addr)
    return addr.error();
  if (auto st = replaceStaleSocket(path); !st)
    return st.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid())
    return sysError("socket() for", path);
  // bind() creates the file with 0777 & ~umask: narrow the umask so that
  // it is never wider than mode, even for an instant.
  mode_t oldMask = ::umask(0777 & ~mode);
  int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr.value()),
                     sizeof(sockaddr_un));
  ::umask(oldMask);
  if (bound != 0)
    return sysError("bind", path);
  if (::chmod(path.c_str(), mode) != 0)
    return sysError("chmod", path);
  if (::listen(fd.get(), 8) != 0)
    return sysError("listen", path);
  return fd;
}

Status writeAll(int fd, std::string_view data, Millis deadline, int cancelFd) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Millis left = deadline - monotonicMillis();
      if (left <= 0)
        return makeError("write timed out");
      pollfd p[2] = {{fd, POLLOUT, 0}, {cancelFd, POLLIN, 0}};
      ::poll(p, 2, static_cast<int>(left));
      if (p[1].revents)
        return makeError("write interrupted");
      continue;
    }
    return makeError(std::string("write failed: ") + std::strerror(errno));
  }
  return okStatus();
}

Maybe<bool> waitReadable(int fd, Millis deadline, int cancelFd) {
  for (;;) {
    Millis left = deadline - monotonicMillis();
    if (left < 0)
      left = 0;
    // poll() ignores the entry of a negative fd.
    pollfd p[2] = {{fd, POLLIN, 0}, {cancelFd, POLLIN, 0}};
    int r = ::poll(p, 2, static_cast<int>(left));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return makeError(std::string("poll failed: ") + std::strerror(errno));
    if (p[1].revents)
      return makeError("wait interrupted");
    return p[0].revents != 0;
  }
}

}  // namespace htier

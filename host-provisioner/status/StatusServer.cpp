// SPDX-License-Identifier: GPL-2.0
#include "status/StatusServer.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/RuntimeFiles.h"

namespace htier {

Maybe<StatusServer> StatusServer::listen(const std::string& path) {
  if (auto st = makeParentDirs(path); !st)
    return st.error();
  auto fd = listenUnix(path, kStatusSocketMode);
  if (!fd)
    return fd.error();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return errnoError("lstat " + path);
  return StatusServer(path, std::move(fd.value()), st.st_dev, st.st_ino);
}

StatusServer::~StatusServer() {
  struct stat st {};
  if (fd_.valid() && ::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_)
    ::unlink(path_.c_str());
}

void StatusServer::serve(const std::string& doc) {
  for (;;) {
    Fd client(
        ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid())
      return;
    // A client that does not read gets cut off rather than stall the loop.
    (void)writeAll(client.get(), doc, monotonicMillis() + 200);
  }
}

Maybe<std::string> fetchStatus(const std::string& path, Millis timeoutMs) {
  auto fd = connectUnix(path);
  if (!fd)
    return makeError(fd.message() +
                     " (is htier-provisiond running? see --status-socket)");
  Millis deadline = monotonicMillis() + timeoutMs;
  std::string doc;
  for (;;) {
    auto ready = waitReadable(fd->get(), deadline);
    if (!ready)
      return ready.error();
    if (!*ready)
      return makeError("timed out reading status from " + path);
    char buf[16384];
    ssize_t n = ::recv(fd->get(), buf, sizeof(buf), 0);
    if (n == 0)
      return doc;
    if (n < 0 && errno != EINTR && errno != EAGAIN)
      return makeError(std::string("read ") + path + ": " +
                       std::strerror(errno));
    if (n > 0)
      doc.append(buf, static_cast<size_t>(n));
    if (doc.size() > (64u << 20))
      return makeError("status document too large");
  }
}

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// Unix stream sockets: the QMP monitor, the guest's htier channel and the
// status socket are all AF_UNIX.  Fd owns a descriptor; the helpers return
// errors as values with errno text and the path, ready for a log line.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/Clock.h"
#include "util/Maybe.h"

namespace htier {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o)
      reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Connects to a unix stream socket; the returned fd is non-blocking and
// close-on-exec.
Maybe<Fd> connectUnix(const std::string& path);

// Binds and listens, the socket file with exactly mode; non-blocking.  A
// stale socket file at path is replaced, a live one (another process
// serves it) or any other file is not.
Maybe<Fd> listenUnix(const std::string& path, mode_t mode = 0600);

// Writes all of data before deadline (monotonic ms), polling on EAGAIN.
// A readable cancelFd (another thread's interrupt) fails the wait at once.
Status writeAll(int fd, std::string_view data, Millis deadline,
                int cancelFd = -1);

// Waits until fd is readable or deadline passes; true when readable.  A
// readable cancelFd fails the wait at once.
Maybe<bool> waitReadable(int fd, Millis deadline, int cancelFd = -1);

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// The daemon's runtime files: the directory they live in (/run/htier by
// default, missing on a fresh host unless systemd's RuntimeDirectory= made
// it) and the lock that keeps one daemon per status socket, so that two
// daemons never drive the same VMs nor take each other's socket.
#pragma once

#include <string>

#include "util/Maybe.h"
#include "util/UnixSocket.h"

namespace htier {

// Makes the missing directories above path, each with mode 0755 (not
// subject to the umask).
Status makeParentDirs(const std::string& path);

// An flock(2) held on a file for as long as the object lives.  The kernel
// drops it when the process ends, however it ends, so a lock file left
// behind never blocks a restart.
class InstanceLock {
 public:
  // Fails with sysErrno EWOULDBLOCK when another process holds the lock;
  // the message then names its pid (written into the file).
  static Maybe<InstanceLock> acquire(const std::string& path);

 private:
  explicit InstanceLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace htier

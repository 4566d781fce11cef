// SPDX-License-Identifier: GPL-2.0
//
// The status socket: every client that connects gets the current snapshot
// as one JSON document, then EOF.  No request is read, so a client cannot
// make the daemon do anything.  The socket file is mode 0660 (owner and
// group may read the status), in a directory made if missing; a live
// socket of another process is never replaced, and on shutdown only our
// own socket file is removed.
#pragma once

#include <sys/types.h>

#include <string>

#include "status/Status.h"
#include "util/UnixSocket.h"

namespace htier {

class StatusServer {
 public:
  static Maybe<StatusServer> listen(const std::string& path);
  StatusServer(StatusServer&&) = default;
  ~StatusServer();

  int fd() const { return fd_.get(); }
  // Answers every pending connection with doc.
  void serve(const std::string& doc);

 private:
  StatusServer(std::string path, Fd fd, dev_t dev, ino_t ino)
      : path_(std::move(path)), fd_(std::move(fd)), dev_(dev), ino_(ino) {}
  std::string path_;
  Fd fd_;
  dev_t dev_;  // the socket file we made, told apart from a later one
  ino_t ino_;
};

constexpr mode_t kStatusSocketMode = 0660;

// Client side of `htier-provisiond status`.
Maybe<std::string> fetchStatus(const std::string& path, Millis timeoutMs);

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// The status socket: every client that connects gets the current snapshot
// as one JSON document, then EOF.  No request is read, so a client cannot
// make the daemon do anything.
#pragma once

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
  StatusServer(std::string path, Fd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  Fd fd_;
};

// Client side of `htier-provisiond status`.
Maybe<std::string> fetchStatus(const std::string& path, Millis timeoutMs);

}  // namespace htier

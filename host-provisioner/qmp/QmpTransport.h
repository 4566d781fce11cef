// SPDX-License-Identifier: GPL-2.0
//
// The byte pipe under a QMP client: a real unix socket, or in tests a
// scripted peer replaying a recorded QEMU transcript.
#pragma once

#include <memory>
#include <string>

#include "util/Clock.h"
#include "util/Maybe.h"

namespace htier {

class QmpTransport {
 public:
  virtual ~QmpTransport() = default;
  virtual Status open() = 0;
  virtual void close() = 0;
  // line has no terminator; the transport adds '\n'.
  virtual Status writeLine(const std::string& line, Millis deadline) = 0;
  // Next line without its terminator; an error on timeout, EOF or failure
  // (timedOut tells which, so the client can keep a live connection).
  virtual Maybe<std::string> readLine(Millis deadline, bool& timedOut) = 0;
  // Thread-safe: makes the wait in progress, and every later one, fail at
  // once (shutdown).
  virtual void interrupt() {}
};

std::unique_ptr<QmpTransport> makeUnixQmpTransport(std::string path);

}  // namespace htier

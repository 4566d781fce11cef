// SPDX-License-Identifier: GPL-2.0
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "htier/protocol/line_reader.h"
#include "qmp/QmpTransport.h"
#include "util/UnixSocket.h"

namespace htier {

namespace {

// QMP replies are small; query-qmp-schema is the largest at ~200 KiB.
constexpr size_t kMaxQmpLine = 4 << 20;

class UnixQmpTransport : public QmpTransport {
 public:
  explicit UnixQmpTransport(std::string path)
      : path_(std::move(path)),
        lines_(kMaxQmpLine),
        interrupt_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  void interrupt() override {
    uint64_t one = 1;
    if (interrupt_.valid())
      (void)!::write(interrupt_.get(), &one, sizeof(one));
  }

  Status open() override {
    close();
    auto fd = connectUnix(path_);
    if (!fd)
      return fd.error();
    fd_ = std::move(fd.value());
    return okStatus();
  }

  void close() override {
    fd_.reset();
    lines_.clear();
  }

  Status writeLine(const std::string& line, Millis deadline) override {
    if (!fd_.valid())
      return makeError("not connected");
    return writeAll(fd_.get(), line + "\n", deadline, interrupt_.get());
  }

  Maybe<std::string> readLine(Millis deadline, bool& timedOut) override {
    timedOut = false;
    for (;;) {
      if (auto line = lines_.next())
        return std::move(*line);
      if (!fd_.valid())
        return makeError("not connected");
      auto ready = waitReadable(fd_.get(), deadline, interrupt_.get());
      if (!ready)
        return ready.error();
      if (!ready.value()) {
        timedOut = true;
        return makeError("timed out waiting for QMP");
      }
      char buf[16384];
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n == 0)
        return makeError("QMP socket closed by QEMU");
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
          continue;
        return makeError(std::string("QMP read failed: ") +
                         std::strerror(errno));
      }
      lines_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

 private:
  std::string path_;
  Fd fd_;
  protocol::LineReader lines_;
  Fd interrupt_;  // an eventfd, readable once interrupted
};

}  // namespace

std::unique_ptr<QmpTransport> makeUnixQmpTransport(std::string path) {
  return std::make_unique<UnixQmpTransport>(std::move(path));
}

}  // namespace htier

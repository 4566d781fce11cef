// SPDX-License-Identifier: GPL-2.0
//
// What a QMP peer sends: the input's lines are the greeting and then the
// replies and events a QmpClient reads while it connects, adopts a
// virtio-mem device and resizes it.  Any bytes give values or errors,
// never a crash or an exception.
#include <cstdint>
#include <string>
#include <string_view>

#include "htier/protocol/line_reader.h"
#include "qmp/QmpClient.h"
#include "qmp/VirtioMem.h"
#include "util/Log.h"

using namespace htier;

namespace {

class FuzzTransport : public QmpTransport {
 public:
  explicit FuzzTransport(std::string_view bytes) { lines_.feed(bytes); }
  Status open() override { return okStatus(); }
  void close() override {}
  Status writeLine(const std::string&, Millis) override { return okStatus(); }
  Maybe<std::string> readLine(Millis, bool& timedOut) override {
    timedOut = false;
    if (auto l = lines_.next())
      return std::move(*l);
    timedOut = true;  // keeps the connection: the next command reads on
    return makeError("timed out waiting for QMP");
  }

 private:
  protocol::LineReader lines_{1 << 20};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  setLogLevel(LogLevel::kError);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto client = std::make_unique<QmpClient>(
      std::make_unique<FuzzTransport>(bytes), 100, [] { return Millis(0); });
  QmpVmControl vm(std::move(client));
  if (!vm.connect())
    return 0;
  (void)vm.describe("vm0");
  (void)vm.size("vm0");
  (void)vm.setRequestedSize("vm0", 256 << 20);
  (void)vm.requestedSize("vm0");
  (void)vm.client().takeEvents();
  return 0;
}

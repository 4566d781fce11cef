// SPDX-License-Identifier: GPL-2.0
//
// The bytes a guest writes to its link: split into lines (LineReader),
// each parsed as a guest message (parseGuestMessage), as GuestLink does,
// and each also parsed alone.  Nothing may crash, throw, or be accepted
// that breaks what the engine relies on.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "link/GuestLink.h"
#include "link/Message.h"
#include "util/Log.h"
#include "util/Units.h"

using namespace htier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  setLogLevel(LogLevel::kError);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const uint64_t maxMemory = 64 * kGiB;

  auto msg = parseGuestMessage(bytes, maxMemory);
  if (msg && msg->kind == ParsedMessage::Kind::kReport) {
    const GuestReport& r = msg->report;
    uint64_t resident = r.fastResidentBytes + r.slowResidentBytes;
    if (r.fastResidentBytes > maxMemory || r.slowResidentBytes > maxMemory ||
        r.hotSetBytes > maxMemory || resident > maxMemory ||
        (resident && r.hotSetBytes > resident))
      std::abort();
    for (size_t i = 0; i < r.curve.size(); i++)
      if (r.curve[i].share < 0 || r.curve[i].share > 1 ||
          (i && r.curve[i].fastBytes <= r.curve[i - 1].fastBytes))
        std::abort();
  }

  GuestLink link("fuzz", "/nonexistent", maxMemory);
  // In two pieces, split where the first byte says: lines cross feeds.
  size_t cut = size ? data[0] % (size + 1) : 0;
  link.consume(bytes.substr(0, cut), 1000);
  link.consume(bytes.substr(cut), 2000);
  (void)link.takeReport();
  return 0;
}

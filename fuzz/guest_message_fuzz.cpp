// SPDX-License-Identifier: GPL-2.0
//
// The bytes a guest writes to its link: split into lines (the protocol
// library's LineReader), each parsed as a guest message
// (parseGuestMessage), as GuestLink does, and each also parsed alone, by
// the daemon's adapter and by the shared decoder both sides use.  Nothing
// may crash, throw, or be accepted that breaks what the engine relies on;
// what the shared decoder accepts encodes back to the same message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "htier/protocol/message.h"
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

  auto decoded = protocol::decodeMessage(bytes);
  if (auto* m = std::get_if<protocol::Message>(&decoded)) {
    protocol::Message again = std::visit(
        [](const auto& msg) {
          auto d = protocol::decodeMessage(protocol::encodeMessage(msg));
          if (!std::holds_alternative<protocol::Message>(d))
            std::abort();
          return std::get<protocol::Message>(d);
        },
        *m);
    if (auto* r = std::get_if<protocol::ReportMessage>(m))
      r->curveProblem.clear();  // never encoded
    if (again != *m)
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

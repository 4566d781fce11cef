// SPDX-License-Identifier: GPL-2.0
//
// An operator's config file: any text is parsed into a Config or a list
// of errors, never a crash or an exception; an accepted config keeps the
// promises the engine relies on.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/ConfigParser.h"

using namespace htier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = parseConfig(text, {"utility", "weighted-fair", "static", "greedy"});
  if (!r.ok())
    return 0;
  const Config& c = r.config;
  uint64_t mins = 0;
  for (const auto& vm : c.vms) {
    if (vm.minFastBytes > vm.maxFastBytes || vm.name.empty() ||
        vm.qmpPath == vm.channelPath || !(vm.weight > 0))
      std::abort();
    mins += vm.minFastBytes;
    if (mins < vm.minFastBytes || mins > c.fastCapacityBytes)
      std::abort();
  }
  return 0;
}

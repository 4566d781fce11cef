// SPDX-License-Identifier: GPL-2.0
//
// At start, htier-agent hands the module this CPU's PEBS event encodings
// (libpfm4) when the module may use PEBS (sampler auto or pebs), so the
// module samples with the right events on any CPU model it has no
// built-in table for.
#pragma once

#include <functional>
#include <string>

#include "common/sysfs.h"

namespace htier::agent {

struct PmuSetupResult {
  bool applied = false;
  std::string message;  // what happened, for the log
};

// Encoder seam for tests: returns the module's pebs_events line for this
// CPU, or an empty string with `why` set when there is nothing to apply.
using PebsEventsEncoder = std::function<std::string(std::string& why)>;

PebsEventsEncoder libpfmEncoder();

// Apply the encodings unless the module runs abit by explicit choice.
// After applying under `auto`, asks the module to choose again, so a PMU
// that works with the new events is taken up.  Never fatal.
PmuSetupResult applyPebsEvents(const Sysfs& sysfs, const PebsEventsEncoder& encode);

}  // namespace htier::agent

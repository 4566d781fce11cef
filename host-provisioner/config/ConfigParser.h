// SPDX-License-Identifier: GPL-2.0
//
// JSON -> Config.  Collects every problem rather than stopping at the
// first, each as "<key path>: <what is wrong>", so --check-config can show
// an operator the whole list at once.
#pragma once

#include <string>
#include <vector>

#include "config/Config.h"

namespace htier {

struct ConfigParseResult {
  Config config;
  std::vector<std::string> errors;    // any error: the config is unusable
  std::vector<std::string> warnings;  // accepted, but probably a mistake

  bool ok() const { return errors.empty(); }
};

// knownPolicies: the names the "policy" key may take.
ConfigParseResult parseConfig(const std::string& text,
                              const std::vector<std::string>& knownPolicies);

ConfigParseResult parseConfigFile(
    const std::string& path, const std::vector<std::string>& knownPolicies);

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
//
// Policies by name, for the config's "policy" key and --list-policies.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/Policy.h"

namespace htier {

struct PolicyInfo {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<Policy>()> make;
};

const std::vector<PolicyInfo>& policyRegistry();
std::vector<std::string> policyNames();
// nullptr for an unknown name.
std::unique_ptr<Policy> makePolicy(const std::string& name);

std::unique_ptr<Policy> makeUtilityPolicy();
std::unique_ptr<Policy> makeWeightedFairPolicy();
std::unique_ptr<Policy> makeStaticPolicy();
std::unique_ptr<Policy> makeGreedyPolicy();

}  // namespace htier

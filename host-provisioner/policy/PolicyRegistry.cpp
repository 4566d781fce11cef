// SPDX-License-Identifier: GPL-2.0
#include "policy/PolicyRegistry.h"

namespace htier {

const std::vector<PolicyInfo>& policyRegistry() {
  // An explicit table rather than static registrars: nothing here can be
  // dropped by the linker, and the order is the order --list-policies shows.
  static const std::vector<PolicyInfo> kPolicies = {
      {"utility",
       "default: guarantees first, then the rest where it buys the most "
       "fast-memory hits per weight (concave hull of each guest's curve)",
       makeUtilityPolicy},
      {"weighted-fair",
       "guarantees first, then the rest in proportion to weight, capped at "
       "each VM's reported hot set",
       makeWeightedFairPolicy},
      {"static",
       "fixed weight-proportional shares of the capacity, ignoring demand",
       makeStaticPolicy},
      {"greedy",
       "baseline: guarantees, then VMs in config order take what their hot "
       "set asks for until the capacity runs out",
       makeGreedyPolicy},
  };
  return kPolicies;
}

std::vector<std::string> policyNames() {
  std::vector<std::string> names;
  for (const auto& p : policyRegistry())
    names.push_back(p.name);
  return names;
}

std::unique_ptr<Policy> makePolicy(const std::string& name) {
  for (const auto& p : policyRegistry())
    if (p.name == name)
      return p.make();
  return nullptr;
}

}  // namespace htier

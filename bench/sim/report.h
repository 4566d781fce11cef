// SPDX-License-Identifier: GPL-2.0
// Simulator output: a table for people, JSON for scripts and plots.
#pragma once

#include <ostream>

#include "simulator.h"

namespace htier::sim {

void writeTable(std::ostream& out, const SimResult& r, const SimConfig& cfg);
void writeJson(std::ostream& out, const SimResult& r, const SimConfig& cfg);

}  // namespace htier::sim

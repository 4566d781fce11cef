// SPDX-License-Identifier: GPL-2.0
//
// Human-readable renderings shared by the tools: sizes, shares, bar lines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace htier {

// 1536 -> "1.5 KiB", 0 -> "0 B"; binary units up to EiB.
std::string humanBytes(uint64_t bytes);

// 0.4567 -> "45.7%".
std::string percent(double share);

// One character per bin, ASCII only (guest consoles): " .:-=+*#%@", scaled
// by log(1 + count) relative to the largest bin so that small hot bins stay
// visible next to a huge cold bin.  An empty bin is always ' ', a non-empty
// one never is.
std::string histogramBar(const std::vector<uint64_t>& bins);

}  // namespace htier

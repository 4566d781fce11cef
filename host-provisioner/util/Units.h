// SPDX-License-Identifier: GPL-2.0
//
// Byte arithmetic shared by config, policy and enforcement.  All sizes are
// uint64_t bytes; alignment is to a device block size (virtio-mem: 2 MiB by
// default), which is never zero once a device has been adopted.
#pragma once

#include <cstdint>
#include <string>

namespace htier {

constexpr uint64_t kMiB = 1024ull * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

inline uint64_t alignDown(uint64_t v, uint64_t block) {
  return block ? v - v % block : v;
}

inline uint64_t alignUp(uint64_t v, uint64_t block) {
  if (!block || v % block == 0)
    return v;
  return v - v % block + block;
}

// "1.50 GiB", "256 MiB", "512 B": for logs and the status table.
std::string formatBytes(uint64_t bytes);

}  // namespace htier

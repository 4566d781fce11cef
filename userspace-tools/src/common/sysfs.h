// SPDX-License-Identifier: GPL-2.0
//
// Access to the module's sysfs directory (/sys/kernel/mm/htier by default)
// through a root path, so that tests can point it at a fake tree in a temp
// directory.  Paths given to the methods are relative to the root
// ("quota_bytes", "stats/samples").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace htier {

inline constexpr const char* kDefaultSysfsRoot = "/sys/kernel/mm/htier";

// One file of the tree, as read at one moment.
struct SysfsFile {
  std::string value;     // contents without the trailing newline
  bool writable = false;  // owner-writable mode bit (0644 vs 0444)
  bool readError = false;  // value holds the error text instead
};

// Every regular file under the root, keyed by relative path ("stats/samples").
using SysfsSnapshot = std::map<std::string, SysfsFile>;

class Sysfs {
 public:
  explicit Sysfs(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }

  // True when the root directory exists (the module is loaded).
  bool present() const;

  // Whole file, trailing newline(s) removed.
  Result<std::string> read(std::string_view rel) const;
  // File holding one unsigned decimal number.
  Result<uint64_t> readU64(std::string_view rel) const;
  // Write `value` (a newline is not added) to an existing file.  Rejects
  // paths that leave the root and files that are not owner-writable.
  Status write(std::string_view rel, std::string_view value) const;
  // Every regular file under the root (recursively, sorted by path).
  Result<SysfsSnapshot> snapshot() const;

 private:
  Result<std::filesystem::path> resolve(std::string_view rel) const;

  std::filesystem::path root_;
};

// Strict unsigned decimal parse: digits only, surrounding whitespace allowed,
// no sign, no overflow.
Result<uint64_t> parseU64(std::string_view text);

// Whitespace-separated unsigned numbers ("12 0 3").
Result<std::vector<uint64_t>> parseU64List(std::string_view text);

}  // namespace htier

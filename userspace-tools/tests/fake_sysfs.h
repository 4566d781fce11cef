// SPDX-License-Identifier: GPL-2.0
//
// A fake /sys/kernel/mm/htier tree in a fresh temp directory, removed when
// the object goes away.  Default contents follow design.md's ABI table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace htier::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class FakeSysfs {
 public:
  // Creates <tmp>/htier with the contract's files and plausible values.
  FakeSysfs();
  std::filesystem::path root() const { return dir_.path() / "htier"; }
  std::filesystem::path base() const { return dir_.path(); }

  void set(const std::string& rel, const std::string& value, bool writable = false);
  std::string get(const std::string& rel) const;
  void remove(const std::string& rel);
  void setHistogram(const std::vector<uint64_t>& bins);

 private:
  TempDir dir_;
};

}  // namespace htier::test

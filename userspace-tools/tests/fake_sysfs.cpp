// SPDX-License-Identifier: GPL-2.0
#include "fake_sysfs.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace htier::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "htier-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

FakeSysfs::FakeSysfs() {
  fs::create_directories(root() / "stats");
  set("enabled", "1", true);
  set("sampler", "auto pebs [abit]", true);
  set("fast_nodes", "0", true);
  set("slow_nodes", "1", true);
  set("quota_bytes", "268435456", true);
  set("stats/fast_resident_bytes", "134217728");
  set("stats/slow_resident_bytes", "402653184");
  set("stats/hot_set_bytes", "67108864");
  set("stats/promoted_pages", "1000");
  set("stats/demoted_pages", "200");
  set("stats/promote_failed", "3");
  set("stats/demote_failed", "0");
  set("stats/samples", "10000");
  set("stats/samples_fast", "9000");
  set("stats/samples_slow", "1000");
  set("stats/hotness_histogram", "100000 20000 5000 1000 100 0 0 0");
}

void FakeSysfs::set(const std::string& rel, const std::string& value, bool writable) {
  // Write-then-rename, so a reader in another thread (the agent under test)
  // never sees a half-written value, as with real sysfs.
  fs::path p = root() / rel;
  fs::create_directories(p.parent_path());
  fs::path tmp = p;
  tmp += ".tmp-write";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << value << "\n";
  }
  fs::permissions(tmp, writable ? fs::perms(0644) : fs::perms(0444));
  fs::rename(tmp, p);
}

std::string FakeSysfs::get(const std::string& rel) const {
  std::ifstream in(root() / rel);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void FakeSysfs::remove(const std::string& rel) { fs::remove(root() / rel); }

void FakeSysfs::setHistogram(const std::vector<uint64_t>& bins) {
  std::string line;
  for (uint64_t b : bins) line += (line.empty() ? "" : " ") + std::to_string(b);
  set("stats/hotness_histogram", line);
}

}  // namespace htier::test

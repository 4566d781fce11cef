// SPDX-License-Identifier: GPL-2.0
//
// Reading and writing the module's one-value-per-file sysfs directory.
#include "common/sysfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <system_error>
#include <vector>

namespace htier {
namespace fs = std::filesystem;

namespace {

// sysfs values are one line; a cap keeps a stray huge file from costing much.
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<std::string> readWholeFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::fromErrno("cannot open " + path.string(), errno);
  std::string out;
  char buf[4096];
  while (out.size() < kMaxFileBytes) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error::fromErrno("cannot read " + path.string(), err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

Result<uint64_t> parseU64(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty()) return Error::msg("empty value");
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 10);
  if (ec == std::errc::result_out_of_range) return Error::msg("number out of range: " + std::string(t));
  if (ec != std::errc() || ptr != t.data() + t.size())
    return Error::msg("not an unsigned number: '" + std::string(t) + "'");
  return v;
}

Result<std::vector<uint64_t>> parseU64List(std::string_view text) {
  std::vector<uint64_t> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      auto v = parseU64(text.substr(i, j - i));
      if (!v) return v.error();
      out.push_back(*v);
    }
    i = j;
  }
  return out;
}

bool Sysfs::present() const {
  std::error_code ec;
  return fs::is_directory(root_, ec);
}

Result<fs::path> Sysfs::resolve(std::string_view rel) const {
  fs::path p(rel);
  if (rel.empty() || p.is_absolute()) return Error::msg("invalid key '" + std::string(rel) + "'");
  for (const auto& part : p)
    if (part == "..") return Error::msg("invalid key '" + std::string(rel) + "'");
  return root_ / p;
}

Result<std::string> Sysfs::read(std::string_view rel) const {
  auto path = resolve(rel);
  if (!path) return path.error();
  return readWholeFile(*path);
}

Result<uint64_t> Sysfs::readU64(std::string_view rel) const {
  auto text = read(rel);
  if (!text) return text.error();
  auto v = parseU64(*text);
  if (!v) return Error::msg(std::string(rel) + ": " + v.error().message);
  return v;
}

Status Sysfs::write(std::string_view rel, std::string_view value) const {
  auto path = resolve(rel);
  if (!path) return path.error();
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) {
    if (errno == ENOENT) return Error{ENOENT, "no such setting '" + std::string(rel) + "'"};
    return Error::fromErrno("cannot stat " + path->string(), errno);
  }
  if (S_ISDIR(st.st_mode)) return Error{EISDIR, "'" + std::string(rel) + "' is a directory"};
  if (!(st.st_mode & S_IWUSR)) return Error{EACCES, "'" + std::string(rel) + "' is read-only"};
  // O_TRUNC matters for fake trees (regular files); sysfs ignores it, as it
  // does for a shell's `echo v > file`.
  int fd = ::open(path->c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Error::fromErrno("cannot open " + path->string() + " for writing", errno);
  // sysfs takes one write(2) per value; a short write would be a partial value.
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  if (::close(fd) != 0 && n >= 0) {
    n = -1;
    err = errno;
  }
  if (n < 0) return Error::fromErrno("writing '" + std::string(value) + "' to " + std::string(rel) + " failed", err);
  if (static_cast<size_t>(n) != value.size())
    return Error{EIO, "short write of '" + std::string(value) + "' to " + std::string(rel)};
  return okStatus();
}

Result<SysfsSnapshot> Sysfs::snapshot() const {
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Error::fromErrno("cannot list " + root_.string(), ec.value());
  SysfsSnapshot snap;
  for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
    if (ec) return Error::fromErrno("cannot list " + root_.string(), ec.value());
    std::error_code sec;
    auto status = it->symlink_status(sec);
    if (sec || !fs::is_regular_file(status)) continue;
    SysfsFile file;
    file.writable = (status.permissions() & fs::perms::owner_write) != fs::perms::none;
    auto value = readWholeFile(it->path());
    if (value) {
      file.value = std::move(*value);
    } else {
      file.value = value.error().message;
      file.readError = true;
    }
    snap.emplace(fs::relative(it->path(), root_).generic_string(), std::move(file));
  }
  return snap;
}

}  // namespace htier

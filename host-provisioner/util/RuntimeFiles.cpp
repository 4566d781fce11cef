// SPDX-License-Identifier: GPL-2.0
#include "util/RuntimeFiles.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace htier {

namespace {

constexpr mode_t kDirMode = 0755;

}  // namespace

Status makeParentDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      if (::chmod(dir.c_str(), kDirMode) != 0)  // mkdir obeys the umask
        return errnoError("chmod " + dir);
      continue;
    }
    if (errno != EEXIST)
      return errnoError("mkdir " + dir);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return makeSysError("mkdir " + dir + ": exists and is not a directory",
                          ENOTDIR);
  }
  return okStatus();
}

Maybe<InstanceLock> InstanceLock::acquire(const std::string& path) {
  if (auto st = makeParentDirs(path); !st)
    return st.error();
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return errnoError("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      return errnoError("flock " + path);
    char pid[32] = {};
    ssize_t n = ::pread(fd.get(), pid, sizeof(pid) - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    return makeSysError(path + " is locked by pid " +
                            (holder.empty() ? "?" : holder) +
                            " (another htier-provisiond)",
                        EWOULDBLOCK);
  }
  std::string self = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), self.data(), self.size(), 0) !=
          static_cast<ssize_t>(self.size()))
    return errnoError("write " + path);
  return InstanceLock(std::move(fd));
}

}  // namespace htier

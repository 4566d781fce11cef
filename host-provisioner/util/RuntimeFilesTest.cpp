// SPDX-License-Identifier: GPL-2.0
#include "util/RuntimeFiles.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "util/TestTempDir.h"

using namespace htier;

namespace {

class RuntimeFilesTest : public ::testing::Test {
 protected:
  htier::testing::TempDir tmp_{"htier-runtime"};
  const std::string dir_ = tmp_.path();
};

mode_t modeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

}  // namespace

// A fresh host has no /run/htier: it is made, 0755, whatever the umask.
TEST_F(RuntimeFilesTest, MissingParentDirectoriesAreMade0755) {
  mode_t old = ::umask(077);
  auto st = makeParentDirs(dir_ + "/run/htier/provisiond.sock");
  ::umask(old);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(modeOf(dir_ + "/run"), 0755u);
  EXPECT_EQ(modeOf(dir_ + "/run/htier"), 0755u);
  EXPECT_TRUE(makeParentDirs(dir_ + "/run/htier/other.sock"));  // exists
  // A parent that is a file cannot become a directory.
  ASSERT_EQ(std::system(("touch " + dir_ + "/file").c_str()), 0);
  auto bad = makeParentDirs(dir_ + "/file/x/s.sock");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find(dir_ + "/file"), std::string::npos)
      << bad.message();
}

// One daemon per lock file: a second acquire fails, naming the holder, and
// succeeds once the first is released.
TEST_F(RuntimeFilesTest, InstanceLockIsHeldByOneOwnerAtATime) {
  const std::string path = dir_ + "/run/provisiond.sock.lock";
  {
    auto first = InstanceLock::acquire(path);
    ASSERT_TRUE(first) << first.message();
    auto second = InstanceLock::acquire(path);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().sysErrno, EWOULDBLOCK);
    EXPECT_NE(second.message().find("pid " + std::to_string(::getpid())),
              std::string::npos)
        << second.message();
  }
  EXPECT_TRUE(InstanceLock::acquire(path));  // the first was released
}

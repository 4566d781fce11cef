// SPDX-License-Identifier: GPL-2.0
//
// Finding org.htier.0 under a fake /sys/class/virtio-ports.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/port.h"
#include "fake_sysfs.h"

namespace htier::agent {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& p, const std::string& v) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << v << "\n";
}

TEST(Port, ParseDevNumber) {
  auto d = parseDevNumber("252:3\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->major, 252u);
  EXPECT_EQ(d->minor, 3u);
  EXPECT_FALSE(parseDevNumber("252"));
  EXPECT_FALSE(parseDevNumber("a:b"));
  EXPECT_FALSE(parseDevNumber(":1"));
  EXPECT_FALSE(parseDevNumber("99999:1"));
}

TEST(Port, FindsTheNamedPortAmongOthers) {
  test::TempDir tmp;
  fs::path cls = tmp.path() / "virtio-ports";
  writeFile(cls / "vport0p0" / "name", "org.qemu.guest_agent.0");
  writeFile(cls / "vport0p0" / "dev", "252:0");
  fs::create_directories(cls / "vport0p1");  // a port without a name file
  writeFile(cls / "vport1p2" / "name", "org.htier.0");
  writeFile(cls / "vport1p2" / "dev", "252:5");
  auto port = findPort(cls, tmp.path() / "dev");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_EQ(port->sysName, "vport1p2");
  EXPECT_EQ(port->devPath, tmp.path() / "dev" / "vport1p2");
  EXPECT_EQ(port->dev.major, 252u);
  EXPECT_EQ(port->dev.minor, 5u);
}

TEST(Port, MissingPortOrClassIsAnError) {
  test::TempDir tmp;
  EXPECT_FALSE(findPort(tmp.path() / "nope", tmp.path()));
  writeFile(tmp.path() / "virtio-ports" / "vport0p0" / "name", "other");
  auto r = findPort(tmp.path() / "virtio-ports", tmp.path());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("org.htier.0"), std::string::npos);
}

TEST(Port, ExistingDevNodeIsLeftAlone) {
  test::TempDir tmp;
  writeFile(tmp.path() / "vport1p1", "");
  PortLocation loc{"vport1p1", tmp.path() / "vport1p1", {1, 3}};
  EXPECT_TRUE(ensureDevNode(loc));
  EXPECT_TRUE(fs::is_regular_file(loc.devPath));
}

}  // namespace
}  // namespace htier::agent

// SPDX-License-Identifier: GPL-2.0
#include "libvirt/DomainXml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace htier;

namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

std::string readFile(const std::string& name) {
  std::ifstream in(std::string(HTIER_LIBVIRT_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A running domain's <devices> with the given children.
std::string domain(const std::string& devices, const std::string& id = "7") {
  return "<domain type='qemu'" + (id.empty() ? "" : " id='" + id + "'") +
         "><name>d</name><devices>" + devices + "</devices></domain>";
}

std::string virtioMem(unsigned node, const std::string& alias,
                      const std::string& sizes =
                          "<size unit='KiB'>524288</size>"
                          "<block unit='KiB'>2048</block>"
                          "<requested unit='KiB'>65536</requested>"
                          "<current unit='KiB'>32768</current>") {
  return "<memory model='virtio-mem'><target><node>" + std::to_string(node) +
         "</node>" + sizes + "</target>" +
         (alias.empty() ? "" : "<alias name='" + alias + "'/>") +
         "<address type='pci' domain='0x0000' bus='0x04' slot='0x00' "
         "function='0x0'/></memory>";
}

const std::string kChannel =
    "<channel type='unix'><source mode='bind' path='/run/x.sock'/>"
    "<target type='virtio' name='org.htier.0' state='connected'/>"
    "<alias name='channel0'/></channel>";

}  // namespace

// The live XML libvirt 9.0 gave for a running TCG domain on this machine
// (testdata/libvirt90-live-domain.xml): the device on node 0 by its alias,
// its sizes from KiB, the channel's socket.
TEST(DomainXml, ReadsLibvirtsLiveXml) {
  auto x = parseDomainXml(readFile("libvirt90-live-domain.xml"));
  ASSERT_TRUE(x) << x.message();
  EXPECT_EQ(x->name, "lvtest");
  ASSERT_TRUE(x->id);
  EXPECT_EQ(*x->id, 3);
  ASSERT_EQ(x->virtioMem.size(), 1u);
  const VirtioMemXml& d = x->virtioMem[0];
  EXPECT_EQ(d.id, "virtiomem0");
  EXPECT_EQ(d.node, 0u);
  EXPECT_EQ(d.info.blockBytes, 2 * kMiB);
  EXPECT_EQ(d.info.maxBytes, 512 * kMiB);
  EXPECT_EQ(d.info.requestedBytes, 64 * kMiB);
  EXPECT_TRUE(d.hasCurrent);
  EXPECT_EQ(d.info.sizeBytes, 0u);
  ASSERT_TRUE(x->channelPath);
  EXPECT_EQ(*x->channelPath, "/tmp/lvd/t/lvtest.sock");
  EXPECT_EQ(x->deviceById("virtiomem0"), &x->virtioMem[0]);
  EXPECT_EQ(x->deviceById("balloon0"), nullptr);
}

TEST(DomainXml, DevicesByNodeWithTheirAliases) {
  auto x = parseDomainXml(domain(virtioMem(1, "virtiomem1") + kChannel +
                                 virtioMem(0, "virtiomem0")));
  ASSERT_TRUE(x) << x.message();
  auto fast = x->devicesOnNode(0), slow = x->devicesOnNode(1);
  ASSERT_EQ(fast.size(), 1u);
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(fast[0]->id, "virtiomem0");
  EXPECT_EQ(slow[0]->id, "virtiomem1");
  EXPECT_EQ(fast[0]->info.sizeBytes, 32 * kMiB);
  EXPECT_TRUE(x->devicesOnNode(2).empty());
  EXPECT_EQ(*x->channelPath, "/run/x.sock");
}

// Other memory models (dimm) are not htier's; a device without an alias
// (libvirt's test driver) is named by its node.
TEST(DomainXml, OnlyVirtioMemAndNodeNamesWithoutAlias) {
  auto x = parseDomainXml(
      domain("<memory model='dimm'><target><size unit='KiB'>524288</size>"
             "<node>0</node></target></memory>" +
             virtioMem(1, "")));
  ASSERT_TRUE(x) << x.message();
  ASSERT_EQ(x->virtioMem.size(), 1u);
  EXPECT_EQ(x->virtioMem[0].id, "node1");
}

TEST(DomainXml, UnitsAreScaled) {
  auto x = parseDomainXml(
      domain(virtioMem(0, "m",
                       "<size unit='GiB'>1</size><block unit='MiB'>2</block>"
                       "<requested unit='bytes'>4194304</requested>"
                       "<current>1024</current>")));
  ASSERT_TRUE(x) << x.message();
  const DeviceInfo& i = x->virtioMem[0].info;
  EXPECT_EQ(i.maxBytes, 1024 * kMiB);
  EXPECT_EQ(i.blockBytes, 2 * kMiB);
  EXPECT_EQ(i.requestedBytes, 4 * kMiB);
  EXPECT_EQ(i.sizeBytes, 1024 * kKiB);  // no unit: KiB
  EXPECT_EQ(*libvirtScaledBytes("3", "KB"), 3000u);
  EXPECT_EQ(*libvirtScaledBytes("3", "k"), 3072u);
  EXPECT_EQ(*libvirtScaledBytes("2", "TiB"), 2ull << 40);
  EXPECT_FALSE(libvirtScaledBytes("1", "furlongs"));
  EXPECT_FALSE(libvirtScaledBytes("-1", "KiB"));
  EXPECT_FALSE(libvirtScaledBytes("1.5", "KiB"));
  EXPECT_FALSE(libvirtScaledBytes("", "KiB"));
  EXPECT_FALSE(libvirtScaledBytes("20000000000000000", "EiB"));  // overflow
}

// An inactive domain's XML: no id, no <current>.
TEST(DomainXml, InactiveDomainHasNoIdNorCurrent) {
  auto x = parseDomainXml(
      domain(virtioMem(0, "",
                       "<size unit='KiB'>524288</size>"
                       "<block unit='KiB'>2048</block>"
                       "<requested unit='KiB'>65536</requested>"),
             ""));
  ASSERT_TRUE(x) << x.message();
  EXPECT_FALSE(x->id);
  EXPECT_FALSE(x->virtioMem[0].hasCurrent);
}

TEST(DomainXml, BadDevicesAreErrorsNamingTheDevice) {
  struct Case {
    std::string sizes, want;
  };
  const std::string block = "<block unit='KiB'>2048</block>";
  const std::string size = "<size unit='KiB'>524288</size>";
  const std::string req = "<requested unit='KiB'>65536</requested>";
  for (const Case& c : std::vector<Case>{
           {size + req, "no <block>"},
           {block + req, "no <size>"},
           {size + block, "no <requested>"},
           {size + "<block unit='KiB'>0</block>" + req, "<block> is 0"},
           {size + block + "<requested unit='KiB'>-4</requested>",
            "not a non-negative integer"},
           {size + block + "<requested unit='parsecs'>4</requested>",
            "unknown unit 'parsecs'"},
       }) {
    auto x = parseDomainXml(domain(virtioMem(0, "virtiomem0", c.sizes)));
    ASSERT_FALSE(x) << c.want;
    EXPECT_NE(x.message().find("virtiomem0"), std::string::npos) << x.message();
    EXPECT_NE(x.message().find(c.want), std::string::npos) << x.message();
  }
  auto x = parseDomainXml(
      domain("<memory model='virtio-mem'><target><node>zero</node></target>"
             "</memory>"));
  ASSERT_FALSE(x);
  EXPECT_NE(x.message().find("not a node number"), std::string::npos);
}

TEST(DomainXml, MalformedXmlIsAnError) {
  for (const std::string& bad :
       {std::string(""), std::string("<domain><devices>"),
        std::string("<domain id='1'><name>a</name></domian>"),
        std::string("not xml at all"), std::string("<domain id='x'/>"),
        std::string("<network><name>default</name></network>")}) {
    auto x = parseDomainXml(bad);
    EXPECT_FALSE(x) << bad;
  }
  auto x = parseDomainXml("<domain><devices>");
  EXPECT_NE(x.message().find("malformed"), std::string::npos) << x.message();
  auto net = parseDomainXml("<network/>");
  EXPECT_NE(net.message().find("not <domain>"), std::string::npos);
}

// Entities are not expanded and nothing is fetched from the network.
TEST(DomainXml, NoEntityExpansion) {
  auto x = parseDomainXml(
      "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY p SYSTEM "
      "'file:///etc/passwd'>]><domain id='1'><devices><channel type='unix'>"
      "<source mode='bind' path='&p;'/><target type='virtio' "
      "name='org.htier.0'/></channel></devices></domain>");
  if (x && x->channelPath) {
    EXPECT_EQ(x->channelPath->find("root:"), std::string::npos);
  }
}

TEST(DomainXml, ChannelMustBeAUnixSocketQemuListensOn) {
  auto none = parseDomainXml(domain(virtioMem(0, "m")));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->channelPath);
  EXPECT_TRUE(none->channelProblem.empty());

  auto other = parseDomainXml(domain(
      "<channel type='unix'><source mode='bind' path='/run/ga.sock'/>"
      "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"));
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->channelPath);

  auto connect = parseDomainXml(
      domain("<channel type='unix'><source mode='connect' path='/run/x.sock'/>"
             "<target type='virtio' name='org.htier.0'/></channel>"));
  ASSERT_TRUE(connect);
  EXPECT_FALSE(connect->channelPath);
  EXPECT_NE(connect->channelProblem.find("mode='bind'"), std::string::npos);

  auto pty = parseDomainXml(
      domain("<channel type='pty'><target type='virtio' name='org.htier.0'/>"
             "</channel>"));
  ASSERT_TRUE(pty);
  EXPECT_FALSE(pty->channelPath);
  EXPECT_NE(pty->channelProblem.find("type='unix'"), std::string::npos);
}

// The update XML is the live element, address included, with the new
// request in KiB; the device is found by alias among several.
TEST(DomainXml, UpdateXmlKeepsTheElementWithANewRequest) {
  std::string xml =
      domain(virtioMem(1, "virtiomem1") + virtioMem(0, "virtiomem0"));
  auto up = memoryUpdateXml(xml, "virtiomem0", 256 * kMiB);
  ASSERT_TRUE(up) << up.message();
  auto again = parseDomainXml(domain(*up));
  ASSERT_TRUE(again) << *up;
  ASSERT_EQ(again->virtioMem.size(), 1u);
  EXPECT_EQ(again->virtioMem[0].id, "virtiomem0");
  EXPECT_EQ(again->virtioMem[0].node, 0u);
  EXPECT_EQ(again->virtioMem[0].info.requestedBytes, 256 * kMiB);
  EXPECT_NE(up->find("<requested unit=\"KiB\">262144</requested>"),
            std::string::npos)
      << *up;
  EXPECT_NE(up->find("<address type=\"pci\""), std::string::npos) << *up;
  EXPECT_EQ(up->find("<domain"), std::string::npos) << *up;

  auto real = memoryUpdateXml(readFile("libvirt90-live-domain.xml"),
                              "virtiomem0", 128 * kMiB);
  ASSERT_TRUE(real) << real.message();
  EXPECT_NE(real->find("<alias name=\"virtiomem0\"/>"), std::string::npos);

  EXPECT_FALSE(memoryUpdateXml(xml, "virtiomem9", 256 * kMiB));
  auto odd = memoryUpdateXml(xml, "virtiomem0", 256 * kMiB + 1);
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.message().find("KiB"), std::string::npos);
  EXPECT_FALSE(memoryUpdateXml("<domain", "virtiomem0", 256 * kMiB));
}

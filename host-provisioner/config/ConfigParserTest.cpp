// SPDX-License-Identifier: GPL-2.0
#include "config/ConfigParser.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace htier;
using json = nlohmann::json;

namespace {

const std::vector<std::string> kPolicies = {"utility", "weighted-fair",
                                            "static", "greedy"};

json validConfig() {
  return json::parse(R"({
    "fast_capacity_bytes": 4294967296,
    "interval_ms": 1000,
    "policy": "utility",
    "vms": [
      {"name": "vm-a", "qmp": "/run/htier/vm-a.qmp", "channel": "/run/htier/vm-a.sock",
       "fast_device": "vm0", "slow_device": "vs0",
       "min_fast_bytes": 268435456, "max_fast_bytes": 2147483648, "weight": 1},
      {"name": "vm-b", "qmp": "/run/htier/vm-b.qmp", "channel": "/run/htier/vm-b.sock",
       "fast_device": "vm0", "max_fast_bytes": 2147483648}
    ]})");
}

ConfigParseResult parse(const json& j) {
  return parseConfig(j.dump(), kPolicies);
}

// True when some error starts with the key path and mentions the text.
bool hasError(const ConfigParseResult& r, const std::string& path,
              const std::string& text) {
  for (const auto& e : r.errors)
    if (e.rfind(path + ":", 0) == 0 && e.find(text) != std::string::npos)
      return true;
  return false;
}

std::string dump(const ConfigParseResult& r) {
  std::string s;
  for (const auto& e : r.errors)
    s += e + "\n";
  return s;
}

}  // namespace

TEST(ConfigParser, ContractExampleParsesIntoStructs) {
  auto r = parse(validConfig());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.warnings.empty());
  const Config& c = r.config;
  EXPECT_EQ(c.fastCapacityBytes, 4294967296u);
  EXPECT_EQ(c.intervalMs, 1000);
  EXPECT_EQ(c.policy, "utility");
  ASSERT_EQ(c.vms.size(), 2u);
  EXPECT_EQ(c.vms[0].name, "vm-a");
  EXPECT_EQ(c.vms[0].qmpPath, "/run/htier/vm-a.qmp");
  EXPECT_EQ(c.vms[0].channelPath, "/run/htier/vm-a.sock");
  EXPECT_EQ(c.vms[0].fastDevice, "vm0");
  EXPECT_EQ(c.vms[0].slowDevice, "vs0");
  EXPECT_EQ(c.vms[0].minFastBytes, 268435456u);
  EXPECT_EQ(c.vms[0].maxFastBytes, 2147483648u);
  EXPECT_FALSE(c.vms[1].slowDevice);
  EXPECT_EQ(c.vms[1].minFastBytes, 0u);
  EXPECT_EQ(c.vms[1].weight, 1.0);
}

TEST(ConfigParser, DefaultsAndOptionalKeys) {
  json j = validConfig();
  j.erase("policy");
  j.erase("interval_ms");
  j["hold_ms"] = 0;
  j["status_socket"] = "/tmp/s.sock";
  j["vms"][0]["total_bytes"] = 4294967296;
  j["vms"][0]["fast_base_bytes"] = 1073741824;
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.policy, "utility");
  EXPECT_EQ(r.config.intervalMs, 1000);
  EXPECT_EQ(r.config.holdMs, 0);
  EXPECT_EQ(r.config.statusSocket, "/tmp/s.sock");
  EXPECT_EQ(r.config.vms[0].totalBytes, 4294967296u);
  EXPECT_EQ(r.config.vms[0].fastBaseBytes, 1073741824u);
}

struct BadCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* path;
  const char* text;
};

class ConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, IsExplainedWithItsKeyPath) {
  json j = validConfig();
  GetParam().mutate(j);
  auto r = parse(j);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(hasError(r, GetParam().path, GetParam().text)) << "errors were:\n"
                                                             << dump(r);
}

INSTANTIATE_TEST_SUITE_P(
    Every, ConfigErrors,
    ::testing::Values(
        BadCase{"MissingCapacity",
                [](json& j) { j.erase("fast_capacity_bytes"); },
                "fast_capacity_bytes", "missing"},
        BadCase{"ZeroCapacity", [](json& j) { j["fast_capacity_bytes"] = 0; },
                "fast_capacity_bytes", "greater than 0"},
        BadCase{"NegativeCapacity",
                [](json& j) { j["fast_capacity_bytes"] = -1; },
                "fast_capacity_bytes", "negative"},
        BadCase{"FloatCapacity",
                [](json& j) { j["fast_capacity_bytes"] = 1.5e9; },
                "fast_capacity_bytes", "integer"},
        BadCase{"StringCapacity",
                [](json& j) { j["fast_capacity_bytes"] = "4G"; },
                "fast_capacity_bytes", "string"},
        BadCase{"IntervalTooSmall", [](json& j) { j["interval_ms"] = 1; },
                "interval_ms", "between"},
        BadCase{"UnknownPolicy", [](json& j) { j["policy"] = "fastest"; },
                "policy", "unknown policy 'fastest'"},
        BadCase{"PolicyNotString", [](json& j) { j["policy"] = 3; }, "policy",
                "string"},
        BadCase{"VmsMissing", [](json& j) { j.erase("vms"); }, "vms",
                "missing"},
        BadCase{"VmsEmpty", [](json& j) { j["vms"] = json::array(); }, "vms",
                "at least one"},
        BadCase{"VmsNotArray", [](json& j) { j["vms"] = json::object(); },
                "vms", "array"},
        BadCase{"VmNotObject", [](json& j) { j["vms"][1] = 7; }, "vms[1]",
                "object"},
        BadCase{"MissingName", [](json& j) { j["vms"][1].erase("name"); },
                "vms[1].name", "missing"},
        BadCase{"BadName", [](json& j) { j["vms"][1]["name"] = "a b"; },
                "vms[1].name", "[A-Za-z0-9._-]"},
        BadCase{"MissingQmp", [](json& j) { j["vms"][0].erase("qmp"); },
                "vms[0].qmp", "missing"},
        BadCase{
            "LongQmpPath",
            [](json& j) { j["vms"][0]["qmp"] = "/" + std::string(200, 'q'); },
            "vms[0].qmp", "longer than"},
        BadCase{"MissingChannel", [](json& j) { j["vms"][0].erase("channel"); },
                "vms[0].channel", "missing"},
        BadCase{"MissingFastDevice",
                [](json& j) { j["vms"][0].erase("fast_device"); },
                "vms[0].fast_device", "missing"},
        BadCase{"EmptyFastDevice",
                [](json& j) { j["vms"][0]["fast_device"] = ""; },
                "vms[0].fast_device", "empty"},
        BadCase{"SlowEqualsFast",
                [](json& j) { j["vms"][0]["slow_device"] = "vm0"; },
                "vms[0].slow_device", "differ"},
        BadCase{"MissingMax",
                [](json& j) { j["vms"][0].erase("max_fast_bytes"); },
                "vms[0].max_fast_bytes", "missing"},
        BadCase{"ZeroMax", [](json& j) { j["vms"][1]["max_fast_bytes"] = 0; },
                "vms[1].max_fast_bytes", "greater than 0"},
        BadCase{"NegativeMin",
                [](json& j) { j["vms"][0]["min_fast_bytes"] = -4096; },
                "vms[0].min_fast_bytes", "negative"},
        BadCase{"MinAboveMax",
                [](json& j) { j["vms"][0]["min_fast_bytes"] = 4294967296; },
                "vms[0].min_fast_bytes", "greater than max_fast_bytes"},
        BadCase{"UnalignedMax",
                [](json& j) { j["vms"][0]["max_fast_bytes"] = 1000000000; },
                "vms[0].max_fast_bytes", "multiple of block_size_bytes"},
        BadCase{"ZeroWeight", [](json& j) { j["vms"][0]["weight"] = 0; },
                "vms[0].weight", "greater than 0"},
        BadCase{"StringWeight", [](json& j) { j["vms"][0]["weight"] = "high"; },
                "vms[0].weight", "number"},
        BadCase{"TotalWithoutSlow",
                [](json& j) { j["vms"][1]["total_bytes"] = 4294967296; },
                "vms[1].total_bytes", "slow_device"},
        BadCase{"TotalBelowMax",
                [](json& j) { j["vms"][0]["total_bytes"] = 2097152; },
                "vms[0].total_bytes", "at least max_fast_bytes"},
        BadCase{"DuplicateName", [](json& j) { j["vms"][1]["name"] = "vm-a"; },
                "vms[1].name", "already used by vms[0]"},
        BadCase{"DuplicateQmp",
                [](json& j) { j["vms"][1]["qmp"] = "/run/htier/vm-a.qmp"; },
                "vms[1].qmp", "already used"},
        BadCase{
            "DuplicateChannel",
            [](json& j) { j["vms"][1]["channel"] = "/run/htier/vm-a.sock"; },
            "vms[1].channel", "already used"},
        BadCase{"InfeasibleMins",
                [](json& j) {
                  j["vms"][0]["min_fast_bytes"] = 2147483648;
                  j["vms"][1]["min_fast_bytes"] = 2147483648 + 2097152;
                  j["vms"][1]["max_fast_bytes"] = 4294967296;
                },
                "vms", "infeasible"},
        BadCase{"BadBlockSize", [](json& j) { j["block_size_bytes"] = 3000; },
                "block_size_bytes", "power of two"},
        BadCase{"BadHold", [](json& j) { j["hold_ms"] = -1; }, "hold_ms",
                "negative"},
        // A guest whose channel is QEMU's monitor could speak for QEMU.
        BadCase{"ChannelIsItsQmp",
                [](json& j) { j["vms"][0]["channel"] = j["vms"][0]["qmp"]; },
                "vms[0].channel", "already used by vms[0].qmp"},
        BadCase{"ChannelIsAnotherVmsQmp",
                [](json& j) { j["vms"][1]["channel"] = j["vms"][0]["qmp"]; },
                "vms[1].channel", "already used by vms[0].qmp"},
        BadCase{"StatusSocketIsAVmSocket",
                [](json& j) { j["status_socket"] = j["vms"][1]["channel"]; },
                "vms[1].channel", "already used by status_socket"},
        BadCase{"MinAboveCapacity",
                [](json& j) {
                  j["vms"].erase(1);
                  j["vms"][0]["min_fast_bytes"] = 8589934592;
                  j["vms"][0]["max_fast_bytes"] = 8589934592;
                  j["vms"][0]["total_bytes"] = 8589934592;
                },
                "vms[0].min_fast_bytes", "more than fast_capacity_bytes"},
        BadCase{"HysteresisNearTwoTo64",
                [](json& j) { j["hysteresis_bytes"] = UINT64_MAX; },
                "hysteresis_bytes", "at most fast_capacity_bytes"},
        BadCase{"HugeFastBase",
                [](json& j) { j["vms"][0]["fast_base_bytes"] = 1ull << 63; },
                "vms[0].fast_base_bytes", "at most"},
        BadCase{"HugeCapacity",
                [](json& j) { j["fast_capacity_bytes"] = 1ull << 63; },
                "fast_capacity_bytes", "at most"},
        BadCase{"HugeBlock",
                [](json& j) { j["block_size_bytes"] = 1ull << 63; },
                "block_size_bytes", "at most"},
        BadCase{"MinsOfTwoTo63",  // the sum used to wrap to 0
                [](json& j) {
                  j["fast_capacity_bytes"] = 1ull << 63;
                  for (auto& vm : j["vms"]) {
                    vm["min_fast_bytes"] = vm["max_fast_bytes"] = 1ull << 63;
                    vm.erase("total_bytes");
                  }
                },
                "vms[0].min_fast_bytes", "at most"}),
    [](const auto& info) { return info.param.name; });

// A libvirt VM: "domain" (and "uri") instead of "qmp", "channel" and the
// device ids, which its domain XML gives.
json libvirtVm() {
  return json::parse(R"({"name": "vm-l", "backend": "libvirt",
    "domain": "guest-1", "min_fast_bytes": 268435456,
    "max_fast_bytes": 1073741824, "total_bytes": 2147483648})");
}

TEST(ConfigParser, LibvirtBackendTakesADomainAndAUri) {
  json j = validConfig();
  j["vms"].push_back(libvirtVm());
  json withUri = libvirtVm();
  withUri["name"] = "vm-m";
  withUri["uri"] = "qemu:///system?socket=/tmp/t/libvirt-sock";
  j["vms"].push_back(withUri);
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.warnings.empty());
  const auto& vms = r.config.vms;
  ASSERT_EQ(vms.size(), 4u);
  EXPECT_EQ(vms[0].backend, Backend::kQmp);  // the default
  EXPECT_EQ(vms[2].backend, Backend::kLibvirt);
  EXPECT_EQ(vms[2].domain, "guest-1");
  EXPECT_EQ(vms[2].libvirtUri, "qemu:///system");
  EXPECT_TRUE(vms[2].qmpPath.empty());
  EXPECT_TRUE(vms[2].fastDevice.empty());
  EXPECT_EQ(vms[2].totalBytes, 2147483648u);  // for its node-1 device
  EXPECT_EQ(vms[3].libvirtUri, "qemu:///system?socket=/tmp/t/libvirt-sock");
  json qmp = validConfig();
  qmp["vms"][0]["backend"] = "qmp";
  EXPECT_TRUE(parse(qmp).ok()) << dump(parse(qmp));
}

INSTANTIATE_TEST_SUITE_P(
    Libvirt, ConfigErrors,
    ::testing::Values(
        BadCase{"UnknownBackend",
                [](json& j) { j["vms"][0]["backend"] = "xen"; },
                "vms[0].backend", "unknown backend 'xen' (known: qmp, libvirt)"},
        BadCase{"BackendNotAString",
                [](json& j) { j["vms"][0]["backend"] = 1; },
                "vms[0].backend", "must be a string"},
        BadCase{"NoDomain",
                [](json& j) {
                  json vm = libvirtVm();
                  vm.erase("domain");
                  j["vms"].push_back(vm);
                },
                "vms[2].domain", "missing"},
        BadCase{"QmpWithLibvirt",
                [](json& j) {
                  json vm = libvirtVm();
                  vm["qmp"] = "/run/x.qmp";
                  j["vms"].push_back(vm);
                },
                "vms[2].qmp", "not used with backend 'libvirt'"},
        BadCase{"ChannelWithLibvirt",
                [](json& j) {
                  json vm = libvirtVm();
                  vm["channel"] = "/run/x.sock";
                  j["vms"].push_back(vm);
                },
                "vms[2].channel", "found in the domain's XML"},
        BadCase{"FastDeviceWithLibvirt",
                [](json& j) {
                  json vm = libvirtVm();
                  vm["fast_device"] = "virtiomem0";
                  j["vms"].push_back(vm);
                },
                "vms[2].fast_device", "not used with backend 'libvirt'"},
        BadCase{"DomainWithQmp",
                [](json& j) { j["vms"][0]["domain"] = "guest-1"; },
                "vms[0].domain", "only used with \"backend\": \"libvirt\""},
        BadCase{"UriWithQmp",
                [](json& j) { j["vms"][0]["uri"] = "qemu:///system"; },
                "vms[0].uri", "only used with"},
        BadCase{"NotAUri",
                [](json& j) {
                  json vm = libvirtVm();
                  vm["uri"] = "/run/libvirt/libvirt-sock";
                  j["vms"].push_back(vm);
                },
                "vms[2].uri", "not a libvirt URI"},
        BadCase{"SameDomainTwice",
                [](json& j) {
                  j["vms"].push_back(libvirtVm());
                  json again = libvirtVm();
                  again["name"] = "vm-l2";
                  j["vms"].push_back(again);
                },
                "vms[3].domain", "already used by vms[2]"}),
    [](const auto& info) { return info.param.name; });

// The same domain name under two libvirt URIs is two domains.
TEST(ConfigParser, SameDomainOnTwoHostsIsFine) {
  json j = validConfig();
  json a = libvirtVm(), b = libvirtVm();
  b["name"] = "vm-l2";
  b["uri"] = "qemu+ssh://other/system";
  j["vms"].push_back(a);
  j["vms"].push_back(b);
  EXPECT_TRUE(parse(j).ok()) << dump(parse(j));
}

TEST(ConfigParser, ReportsEveryErrorNotJustTheFirst) {
  json j = validConfig();
  j["policy"] = "nope";
  j["vms"][0]["min_fast_bytes"] = -1;
  j["vms"][1]["weight"] = -3;
  j["vms"][1]["name"] = "vm-a";
  auto r = parse(j);
  EXPECT_GE(r.errors.size(), 4u) << dump(r);
}

TEST(ConfigParser, NotJsonOrNotObject) {
  auto r = parseConfig("{\"fast_capacity_bytes\": ", kPolicies);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].find("(document)"), std::string::npos);
  r = parseConfig("[1,2]", kPolicies);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].find("object"), std::string::npos);
}

TEST(ConfigParser, UnknownKeysWarnWithPath) {
  json j = validConfig();
  j["polcy"] = "x";
  j["vms"][1]["wieght"] = 2;
  auto r = parse(j);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("vms[1].wieght"), std::string::npos);
  EXPECT_NE(r.warnings[1].find("polcy"), std::string::npos);
}

TEST(ConfigParser, MissingFileIsAnError) {
  auto r = parseConfigFile("/nonexistent/htier.json", kPolicies);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].find("cannot read"), std::string::npos);
}

// Numbers nlohmann cannot hold are a clear document error, not an
// out_of_range exception out of --check-config.
TEST(ConfigParser, NumberOutOfRangeIsAnError) {
  json j = validConfig();
  std::string text = j.dump();
  text.replace(text.find("4294967296"), 10, "1e400");
  ConfigParseResult r;
  EXPECT_NO_THROW(r = parseConfig(text, kPolicies));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].rfind("(document): ", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("1e400"), std::string::npos) << r.errors[0];
}

// Each guarantee fits the capacity, but their sum does not: the sum must
// not wrap around 2^64 and pass.
TEST(ConfigParser, SumOfGuaranteesDoesNotOverflow) {
  const uint64_t kPiB4 = 1ull << 52;
  json j = validConfig();
  j["fast_capacity_bytes"] = kPiB4;
  json vm = j["vms"][1];
  vm["min_fast_bytes"] = vm["max_fast_bytes"] = kPiB4;
  j["vms"] = json::array();
  for (int i = 0; i < 4097; i++) {  // 4097 * 2^52 = 2^64 + 2^52
    vm["name"] = "vm" + std::to_string(i);
    vm["qmp"] = "/q/" + std::to_string(i);
    vm["channel"] = "/c/" + std::to_string(i);
    j["vms"].push_back(vm);
  }
  auto r = parse(j);
  EXPECT_TRUE(hasError(r, "vms", "infeasible")) << dump(r).substr(0, 500);
}

// A rejected value is reported by its type: a deeply nested one is never
// dumped (recursively, one stack frame per level) into the message.
TEST(ConfigParser, DeeplyNestedValueIsReportedByItsType) {
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  std::string text = validConfig().dump();
  text.replace(text.find("4294967296"), 10, deep);
  auto r = parseConfig(text, kPolicies);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(hasError(r, "fast_capacity_bytes", "an array (1 element)"))
      << dump(r).substr(0, 500);
  for (const auto& e : r.errors)
    EXPECT_LT(e.size(), 300u);
}

#ifdef HTIER_HAVE_PROMETHEUS
TEST(ConfigParser, MetricsListenTakesALoopbackAddressWithAPort) {
  for (const char* good : {"127.0.0.1:9464", "127.1.2.3:1", "[::1]:65535"}) {
    json j = validConfig();
    j["metrics_listen"] = good;
    auto r = parse(j);
    ASSERT_TRUE(r.ok()) << good << ": " << dump(r);
    EXPECT_TRUE(r.warnings.empty()) << good;
    EXPECT_EQ(r.config.metricsListen, good);
  }
  auto r = parse(validConfig());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config.metricsListen) << "absent: no metrics endpoint";
}

INSTANTIATE_TEST_SUITE_P(
    MetricsListen, ConfigErrors,
    ::testing::Values(
        BadCase{"NotLoopback",
                [](json& j) { j["metrics_listen"] = "0.0.0.0:9464"; },
                "metrics_listen", "not a loopback address"},
        BadCase{"PublicAddress",
                [](json& j) { j["metrics_listen"] = "192.168.1.5:9464"; },
                "metrics_listen", "not a loopback address"},
        BadCase{"Ipv6Any", [](json& j) { j["metrics_listen"] = "[::]:9464"; },
                "metrics_listen", "not a loopback address"},
        BadCase{"Ipv6WithoutBrackets",
                [](json& j) { j["metrics_listen"] = "::1:9464"; },
                "metrics_listen", "not a loopback address"},
        BadCase{"HostName",
                [](json& j) { j["metrics_listen"] = "localhost:9464"; },
                "metrics_listen", "not a loopback address"},
        BadCase{"NoPort", [](json& j) { j["metrics_listen"] = "127.0.0.1"; },
                "metrics_listen", "no port"},
        BadCase{"EmptyPort",
                [](json& j) { j["metrics_listen"] = "127.0.0.1:"; },
                "metrics_listen", "from 1 to 65535"},
        BadCase{"PortZero",
                [](json& j) { j["metrics_listen"] = "127.0.0.1:0"; },
                "metrics_listen", "from 1 to 65535"},
        BadCase{"PortTooLarge",
                [](json& j) { j["metrics_listen"] = "127.0.0.1:65536"; },
                "metrics_listen", "from 1 to 65535"},
        BadCase{"PortNotANumber",
                [](json& j) { j["metrics_listen"] = "127.0.0.1:http"; },
                "metrics_listen", "from 1 to 65535"},
        BadCase{"NotAString", [](json& j) { j["metrics_listen"] = 9464; },
                "metrics_listen", "must be a string"},
        BadCase{"Empty", [](json& j) { j["metrics_listen"] = ""; },
                "metrics_listen", "must not be empty"}),
    [](const auto& info) { return info.param.name; });
#else
TEST(ConfigParser, MetricsListenNeedsPrometheusCpp) {
  json j = validConfig();
  j["metrics_listen"] = "127.0.0.1:9464";
  auto r = parse(j);
  EXPECT_TRUE(hasError(r, "metrics_listen", "built without prometheus-cpp"))
      << dump(r);
}
#endif

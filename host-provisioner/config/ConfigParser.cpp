// SPDX-License-Identifier: GPL-2.0
#include "config/ConfigParser.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "htier/protocol/excerpt.h"

namespace htier {

namespace {

using json = nlohmann::json;

const char* typeName(const json& j) {
  return j.type_name();
}

// No byte count in a config may exceed 2^52 (4 PiB, x86-64's physical
// address limit), so that sums of a few of them (quota + fast base, the
// memory bound of a guest) can never wrap around 2^64.
constexpr uint64_t kMaxConfigBytes = 1ull << 52;

// Reads typed fields of one JSON object, recording errors against a path.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path, ConfigParseResult& out)
      : obj_(obj), path_(std::move(path)), out_(out) {}

  std::string at(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  void error(const std::string& key, const std::string& what) {
    out_.errors.push_back(at(key) + ": " + what);
  }

  const json* find(const std::string& key, bool required) {
    seen_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required)
        error(key, "required key is missing");
      return nullptr;
    }
    return &*it;
  }

  // A non-negative integer (bytes, milliseconds).  Rejects floats, strings
  // such as "4G", booleans and negative numbers with a specific message.
  bool readU64(const std::string& key, bool required, uint64_t& dst) {
    const json* j = find(key, required);
    if (!j)
      return false;
    if (j->is_number_unsigned()) {
      dst = j->get<uint64_t>();
      return true;
    }
    if (j->is_number_integer())
      error(key, "must not be negative (got " + j->dump() + ")");
    else if (j->is_number_float())
      error(key, "must be an integer (got " + j->dump() + ")");
    else
      error(key, "must be a non-negative integer, got " + protocol::describeJson(*j));
    return false;
  }

  // A byte count: a non-negative integer of at most kMaxConfigBytes.
  bool readBytes(const std::string& key, bool required, uint64_t& dst) {
    uint64_t v = 0;
    if (!readU64(key, required, v))
      return false;
    if (v > kMaxConfigBytes) {
      error(key, "must be at most " + std::to_string(kMaxConfigBytes) +
                     " (4 PiB), got " + std::to_string(v));
      return false;
    }
    dst = v;
    return true;
  }

  bool readMillis(const std::string& key, Millis& dst, uint64_t lo,
                  uint64_t hi) {
    uint64_t v = 0;
    if (!readU64(key, false, v))
      return false;
    if (v < lo || v > hi) {
      error(key, "must be between " + std::to_string(lo) + " and " +
                     std::to_string(hi) + " ms (got " + std::to_string(v) +
                     ")");
      return false;
    }
    dst = static_cast<Millis>(v);
    return true;
  }

  bool readString(const std::string& key, bool required, std::string& dst) {
    const json* j = find(key, required);
    if (!j)
      return false;
    if (!j->is_string()) {
      error(key, std::string("must be a string, got ") + typeName(*j));
      return false;
    }
    dst = j->get<std::string>();
    if (dst.empty()) {
      error(key, "must not be empty");
      return false;
    }
    return true;
  }

  bool readPositiveNumber(const std::string& key, double& dst) {
    const json* j = find(key, false);
    if (!j)
      return false;
    if (!j->is_number() || j->get<double>() <= 0 || j->get<double>() > 1e6) {
      error(key, "must be a number greater than 0 and at most 1e6 (got " +
                     protocol::describeJson(*j) + ")");
      return false;
    }
    dst = j->get<double>();
    return true;
  }

  void warnUnknownKeys() {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (!seen_.count(it.key()))
        out_.warnings.push_back(at(it.key()) +
                                ": unknown key, ignored (typo?)");
  }

 private:
  const json& obj_;
  std::string path_;
  ConfigParseResult& out_;
  std::set<std::string> seen_;
};

constexpr size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1

void checkSocketPath(ObjectReader& r, const std::string& key,
                     const std::string& path) {
  if (path.size() > kMaxSocketPath)
    r.error(key, "socket path longer than " + std::to_string(kMaxSocketPath) +
                     " bytes cannot be used with AF_UNIX");
}

bool validName(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                  c == '_' || c == '.';
         });
}

void checkAligned(ObjectReader& r, const std::string& key, uint64_t v,
                  uint64_t block) {
  if (block && v % block)
    r.error(key, "must be a multiple of block_size_bytes (" +
                     std::to_string(block) + "), got " + std::to_string(v));
}

// The backend and the keys that say where the VM is: "qmp", "channel",
// "fast_device", "slow_device" for QMP; "domain" and "uri" for libvirt.
// The keys of the other backend are errors, not ignored: a config that
// names both is unclear about what it means.
void readBackend(ObjectReader& r, VmConfig& vm) {
  std::string backend = backendName(Backend::kQmp);
  if (r.readString("backend", false, backend)) {
    if (backend == backendName(Backend::kLibvirt))
      vm.backend = Backend::kLibvirt;
    else if (backend != backendName(Backend::kQmp))
      r.error("backend", "unknown backend '" + backend +
                             "' (known: qmp, libvirt)");
  }
  if (vm.backend == Backend::kLibvirt) {
    for (const char* key : {"qmp", "channel", "fast_device", "slow_device"})
      if (r.find(key, false))
        r.error(key,
                "not used with backend 'libvirt': the devices (by guest "
                "node) and the org.htier.0 channel are found in the domain's "
                "XML");
    if (r.readString("domain", true, vm.domain) && vm.domain.size() > 255)
      r.error("domain", "longer than 255 bytes");
    vm.libvirtUri = kDefaultLibvirtUri;
    if (r.readString("uri", false, vm.libvirtUri) &&
        vm.libvirtUri.find(":/") == std::string::npos)
      r.error("uri", "'" + vm.libvirtUri +
                         "' is not a libvirt URI (e.g. qemu:///system)");
    return;
  }
  for (const char* key : {"domain", "uri"})
    if (r.find(key, false))
      r.error(key, "only used with \"backend\": \"libvirt\"");
  if (r.readString("qmp", true, vm.qmpPath))
    checkSocketPath(r, "qmp", vm.qmpPath);
  if (r.readString("channel", true, vm.channelPath))
    checkSocketPath(r, "channel", vm.channelPath);
  r.readString("fast_device", true, vm.fastDevice);
  std::string slow;
  if (r.readString("slow_device", false, slow)) {
    vm.slowDevice = slow;
    if (slow == vm.fastDevice)
      r.error("slow_device", "must differ from fast_device ('" + slow + "')");
  }
}

void parseVm(const json& j, size_t idx, const Config& cfg,
             ConfigParseResult& out) {
  std::string path = "vms[" + std::to_string(idx) + "]";
  if (!j.is_object()) {
    out.errors.push_back(path + ": must be an object, got " +
                         std::string(typeName(j)));
    return;
  }
  ObjectReader r(j, path, out);
  VmConfig vm;
  if (r.readString("name", true, vm.name) && !validName(vm.name))
    r.error("name",
            "'" + vm.name + "' must be 1-64 characters of [A-Za-z0-9._-]");
  readBackend(r, vm);
  bool knowsSlowDevice = vm.slowDevice.has_value();
  if (vm.backend == Backend::kLibvirt)
    knowsSlowDevice = true;  // the domain's node-1 device, if it has one
  bool haveMin = r.readBytes("min_fast_bytes", false, vm.minFastBytes);
  bool haveMax = r.readBytes("max_fast_bytes", true, vm.maxFastBytes);
  if (haveMin) {
    checkAligned(r, "min_fast_bytes", vm.minFastBytes, cfg.blockSizeBytes);
    if (cfg.fastCapacityBytes && vm.minFastBytes > cfg.fastCapacityBytes)
      r.error("min_fast_bytes", std::to_string(vm.minFastBytes) +
                                    " is more than fast_capacity_bytes (" +
                                    std::to_string(cfg.fastCapacityBytes) +
                                    "): the guarantee cannot be kept");
  }
  if (haveMax) {
    checkAligned(r, "max_fast_bytes", vm.maxFastBytes, cfg.blockSizeBytes);
    if (vm.maxFastBytes == 0)
      r.error("max_fast_bytes", "must be greater than 0");
  }
  if (haveMax && vm.minFastBytes > vm.maxFastBytes)
    r.error("min_fast_bytes", "min_fast_bytes (" +
                                  std::to_string(vm.minFastBytes) +
                                  ") is greater than max_fast_bytes (" +
                                  std::to_string(vm.maxFastBytes) + ")");
  if (haveMax && cfg.fastCapacityBytes &&
      vm.maxFastBytes > cfg.fastCapacityBytes)
    out.warnings.push_back(r.at("max_fast_bytes") +
                           ": larger than fast_capacity_bytes; the VM can "
                           "never get more than the capacity");
  r.readPositiveNumber("weight", vm.weight);
  r.readBytes("fast_base_bytes", false, vm.fastBaseBytes);
  uint64_t total = 0;
  if (r.readBytes("total_bytes", false, total)) {
    vm.totalBytes = total;
    if (!knowsSlowDevice)
      r.error("total_bytes", "only meaningful with a slow_device");
    else if (haveMax && total < vm.maxFastBytes)
      r.error("total_bytes", "must be at least max_fast_bytes (" +
                                 std::to_string(vm.maxFastBytes) + ")");
    checkAligned(r, "total_bytes", total, cfg.blockSizeBytes);
  }
  r.warnUnknownKeys();
  out.config.vms.push_back(std::move(vm));
}

template <class Get>
void checkUnique(const std::vector<VmConfig>& vms, const char* key, Get get,
                 ConfigParseResult& out) {
  std::map<std::string, size_t> first;
  for (size_t i = 0; i < vms.size(); i++) {
    const std::string& v = get(vms[i]);
    if (v.empty())
      continue;
    auto [it, inserted] = first.emplace(v, i);
    if (!inserted)
      out.errors.push_back("vms[" + std::to_string(i) + "]." + key + ": '" + v +
                           "' is already used by vms[" +
                           std::to_string(it->second) + "]");
  }
}

// Every socket path is one peer: a guest channel that is also a QMP
// monitor (or the status socket) would let the guest speak for QEMU.
void checkSocketPathsDistinct(const Config& cfg, ConfigParseResult& out) {
  std::map<std::string, std::string> owner;  // path -> key that uses it
  auto claim = [&](const std::string& path, const std::string& key) {
    if (path.empty())
      return;
    auto [it, inserted] = owner.emplace(path, key);
    if (!inserted)
      out.errors.push_back(key + ": '" + path + "' is already used by " +
                           it->second);
  };
  claim(cfg.statusSocket, "status_socket");
  for (size_t i = 0; i < cfg.vms.size(); i++) {
    std::string at = "vms[" + std::to_string(i) + "].";
    claim(cfg.vms[i].qmpPath, at + "qmp");
    claim(cfg.vms[i].channelPath, at + "channel");
  }
}

// "metrics_listen": a loopback address with a port, "127.0.0.1:9464" (any
// of 127.0.0.0/8) or "[::1]:9464".  The metrics say which VMs run and how
// much memory each has: they are not served beyond this host (a reverse
// proxy or a local Prometheus may carry them further).  Empty when good.
[[maybe_unused]] std::string metricsListenProblem(const std::string& s) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos)
    return "'" + s + "' has no port (want e.g. 127.0.0.1:9464)";
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] =
      std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      value == 0 || value > 65535)
    return "port '" + port + "' must be a number from 1 to 65535";
  in_addr v4{};
  in6_addr v6{};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    std::string inner = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, inner.c_str(), &v6) == 1 &&
        IN6_IS_ADDR_LOOPBACK(&v6))
      return "";
  } else if (inet_pton(AF_INET, host.c_str(), &v4) == 1 &&
             (ntohl(v4.s_addr) >> 24) == 127) {
    return "";
  }
  return "'" + host +
         "' is not a loopback address (127.0.0.0/8, or [::1]); the metrics "
         "are served on this host only";
}

void checkGuaranteesFit(const Config& cfg, ConfigParseResult& out) {
  uint64_t sumMin = 0;
  bool overflow = false;
  for (const auto& vm : cfg.vms)
    overflow |= __builtin_add_overflow(sumMin, vm.minFastBytes, &sumMin);
  if (!cfg.fastCapacityBytes || (!overflow && sumMin <= cfg.fastCapacityBytes))
    return;
  std::ostringstream os;
  os << "vms: infeasible: the sum of min_fast_bytes (";
  if (overflow)
    os << "more than 2^64";
  else
    os << sumMin << ", " << formatBytes(sumMin);
  os << ") exceeds fast_capacity_bytes (" << cfg.fastCapacityBytes << ", "
     << formatBytes(cfg.fastCapacityBytes)
     << "); the guarantees cannot all be kept";
  out.errors.push_back(os.str());
}

}  // namespace

const char* backendName(Backend b) {
  switch (b) {
    case Backend::kQmp:
      return "qmp";
    case Backend::kLibvirt:
      return "libvirt";
  }
  return "?";
}

ConfigParseResult parseConfig(const std::string& text,
                              const std::vector<std::string>& knownPolicies) {
  ConfigParseResult out;
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false,
                          /*ignore_comments=*/false);
  if (root.is_discarded()) {
    // Re-parse with exceptions only to get nlohmann's position message.
    std::string why = "not valid JSON";
    // (out_of_range for a number such as 1e400, parse_error otherwise.)
    try {
      json again = json::parse(text);
      (void)again;
    } catch (const json::exception& e) {
      why = e.what();
    }
    out.errors.push_back("(document): " + why);
    return out;
  }
  if (!root.is_object()) {
    out.errors.push_back(
        std::string("(document): must be a JSON object, got ") +
        typeName(root));
    return out;
  }
  Config& cfg = out.config;
  ObjectReader r(root, "", out);
  if (r.readBytes("block_size_bytes", false, cfg.blockSizeBytes) &&
      (cfg.blockSizeBytes < 4096 ||
       (cfg.blockSizeBytes & (cfg.blockSizeBytes - 1))))
    r.error("block_size_bytes", "must be a power of two of at least 4096");
  if (r.readBytes("fast_capacity_bytes", true, cfg.fastCapacityBytes) &&
      cfg.fastCapacityBytes == 0)
    r.error("fast_capacity_bytes", "must be greater than 0");
  r.readMillis("interval_ms", cfg.intervalMs, 10, 3600000);
  if (r.readString("policy", false, cfg.policy) &&
      std::find(knownPolicies.begin(), knownPolicies.end(), cfg.policy) ==
          knownPolicies.end()) {
    std::string names;
    for (const auto& n : knownPolicies)
      names += (names.empty() ? "" : ", ") + n;
    r.error("policy",
            "unknown policy '" + cfg.policy + "' (known: " + names + ")");
  }
  r.readMillis("hold_ms", cfg.holdMs, 0, 86400000);
  // Larger than the capacity it would freeze every quota; near 2^64 it
  // would wrap to 0 when rounded up to the block.
  if (r.readU64("hysteresis_bytes", false, cfg.hysteresisBytes)) {
    uint64_t limit =
        cfg.fastCapacityBytes ? cfg.fastCapacityBytes : kMaxConfigBytes;
    if (cfg.hysteresisBytes > limit)
      r.error("hysteresis_bytes", "must be at most fast_capacity_bytes (" +
                                      std::to_string(limit) + "), got " +
                                      std::to_string(cfg.hysteresisBytes));
  }
  r.readMillis("shrink_notice_ms", cfg.shrinkNoticeMs, 0, 600000);
  r.readMillis("unplug_timeout_ms", cfg.unplugTimeoutMs, 100, 3600000);
  r.readMillis("vm_gone_grace_ms", cfg.vmGoneGraceMs, 0, 86400000);
  r.readMillis("report_stale_ms", cfg.reportStaleMs, 100, 86400000);
  r.readMillis("qmp_timeout_ms", cfg.qmpTimeoutMs, 10, 600000);
  if (r.readString("status_socket", false, cfg.statusSocket))
    checkSocketPath(r, "status_socket", cfg.statusSocket);
  if (std::string listen; r.readString("metrics_listen", false, listen)) {
#ifdef HTIER_HAVE_PROMETHEUS
    if (std::string why = metricsListenProblem(listen); !why.empty())
      r.error("metrics_listen", why);
    else
      cfg.metricsListen = listen;
#else
    r.error("metrics_listen",
            "htier-provisiond was built without prometheus-cpp "
            "(prometheus-cpp-dev): remove the key, or rebuild with it");
#endif
  }

  if (const json* vms = r.find("vms", true)) {
    if (!vms->is_array())
      r.error("vms", std::string("must be an array, got ") + typeName(*vms));
    else if (vms->empty())
      r.error("vms", "must name at least one VM");
    else
      for (size_t i = 0; i < vms->size(); i++)
        parseVm((*vms)[i], i, cfg, out);
  }
  r.warnUnknownKeys();

  checkUnique(
      cfg.vms, "name", [](const VmConfig& v) { return v.name; }, out);
  // Two entries for one domain would drive the same devices twice.
  checkUnique(
      cfg.vms, "domain",
      [](const VmConfig& v) {
        return v.domain.empty() ? v.domain : v.libvirtUri + " " + v.domain;
      },
      out);
  checkSocketPathsDistinct(cfg, out);
  checkGuaranteesFit(cfg, out);
  return out;
}

ConfigParseResult parseConfigFile(
    const std::string& path, const std::vector<std::string>& knownPolicies) {
  std::ifstream in(path);
  if (!in) {
    ConfigParseResult out;
    out.errors.push_back("(file): cannot read config file '" + path + "'");
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), knownPolicies);
}

}  // namespace htier

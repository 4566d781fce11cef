// SPDX-License-Identifier: GPL-2.0
//
// The provisioner's configuration as plain structs: the JSON contract from
// design.md plus optional tuning keys.  Nothing past config/ConfigParser.cpp
// sees JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/Clock.h"
#include "util/Units.h"

namespace htier {

// How the provisioner reaches a VM's virtio-mem devices: "backend".
enum class Backend {
  kQmp,      // its own QMP socket, and a guest-link socket, per VM
  kLibvirt,  // a libvirt domain (libvirt/LibvirtVmControl.h)
};

const char* backendName(Backend b);

constexpr const char* kDefaultLibvirtUri = "qemu:///system";

struct VmConfig {
  std::string name;
  Backend backend = Backend::kQmp;
  // backend "qmp":
  std::string qmpPath;      // "qmp": the VM's QMP unix socket
  std::string channelPath;  // "channel": host end of org.htier.0
  std::string fastDevice;   // virtio-mem device id on the fast node
  std::optional<std::string> slowDevice;
  // backend "libvirt": the devices (by guest node) and the channel are
  // found in the domain's XML.
  std::string domain;       // "domain": the libvirt domain's name
  std::string libvirtUri;   // "uri", default qemu:///system
  uint64_t minFastBytes = 0;
  uint64_t maxFastBytes = 0;
  double weight = 1.0;
  // Fast memory the guest has outside the fast virtio-mem device (boot
  // memory on the fast node).  Not host-managed; added to the quota sent to
  // the guest and to the x-axis of its curve.
  uint64_t fastBaseBytes = 0;
  // With a slow_device: fast device + slow device are kept at this total,
  // so the guest keeps its memory when its fast share shrinks.  Defaults to
  // maxFastBytes.
  std::optional<uint64_t> totalBytes;
};

struct Config {
  uint64_t fastCapacityBytes = 0;
  Millis intervalMs = 1000;
  std::string policy = "utility";
  // Device block size assumed when checking alignment and feasibility
  // before any device is reached (virtio-mem's default).
  uint64_t blockSizeBytes = 2 * kMiB;
  // A VM's quota does not change again within holdMs of a change ...
  Millis holdMs = 5000;
  // ... nor by less than hysteresisBytes (rounded up to its block size).
  uint64_t hysteresisBytes = 32 * kMiB;
  Millis shrinkNoticeMs = 2000;    // effective_in_ms of a shrinking quota
  Millis unplugTimeoutMs = 10000;  // size still above request -> stuck
  Millis vmGoneGraceMs = 10000;    // QMP gone this long -> share to the pool
  Millis reportStaleMs = 30000;    // no report this long -> treated as idle
  Millis qmpTimeoutMs = 2000;
  std::string statusSocket = "/run/htier/provisiond.sock";
  // "metrics_listen": where the Prometheus text exposition is served
  // (http://ADDRESS/metrics), a loopback "127.0.0.1:9464" or "[::1]:9464";
  // none: no metrics endpoint.
  std::optional<std::string> metricsListen;
  std::vector<VmConfig> vms;
};

}  // namespace htier

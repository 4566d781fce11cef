// SPDX-License-Identifier: GPL-2.0
//
// What the engine knows about one VM: its config, its two ports (QMP and
// guest link), the devices' real sizes, the last guest report and the state
// of the resize protocol.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/Config.h"
#include "link/GuestLink.h"
#include "qmp/QmpRunner.h"
#include "qmp/VirtioMem.h"

namespace htier {

struct DeviceRuntime {
  std::string id;
  DeviceInfo info;  // block, max, size (plugged), requested
  // When the device last moved: its request changed, or its size did.
  Millis progressAtMs = 0;
  // Above its request with no progress for unplug_timeout_ms: the guest
  // cannot unplug (for now).
  bool stuck = false;
  // A qom-set requested-size that failed without a reply (a timeout, the
  // link gone) may have been applied: until requested-size is read back,
  // the request is either, and no decision is taken on the device.
  std::optional<uint64_t> requestInDoubtBytes;
  // A qom-set is queued or running; its request is in doubt meanwhile.
  bool setInFlight = false;

  uint64_t chargedBytes() const {
    return std::max(
        {info.sizeBytes, info.requestedBytes, requestInDoubtBytes.value_or(0)});
  }
};

enum class VmPhase {
  kConnecting,  // not adopted (yet, or since its QEMU came back): charged
                // its max_fast_bytes, its size being unknown
  kActive,      // QMP up, devices adopted
  kLost,        // QMP away: the VM keeps its last known charge
  kReleased,    // QEMU absent past the grace period: back to its min
};

const char* phaseName(VmPhase p);

struct VmRuntime {
  VmConfig cfg;
  std::unique_ptr<QmpRunner> qmp;  // where its QMP jobs run
  std::unique_ptr<GuestChannel> link;

  // QMP jobs submitted whose completion has not run yet; a connect is
  // submitted only when there are none, so no job of an older connection
  // completes after an adoption.
  unsigned qmpJobs = 0;
  bool polling = false;          // a size poll is among them
  bool qmpConnected = false;     // as the last finished job left it
  uint64_t connectAttempts = 0;  // finished ones

  VmPhase phase = VmPhase::kConnecting;
  Millis nextConnectMs = 0;
  // The devices' sizes were read since this QEMU was last seen: while QMP
  // is away they are the best guess of what the VM holds.  Without them
  // the VM may hold up to its max_fast_bytes.
  bool sizesKnown = false;
  // Since when connecting found no QEMU (no socket, or nothing listening):
  // only then is the VM gone, not merely unreachable.
  std::optional<Millis> qemuAbsentSinceMs;
  DeviceRuntime fast;
  std::optional<DeviceRuntime> slow;

  // Since adoption no report has arrived: the VM is pinned where it was.
  bool awaitingReport = true;
  std::optional<GuestReport> report;
  Millis reportAtMs = 0;

  uint64_t targetBytes = 0;  // the quota decided for the fast device
  std::string reason =
      "waiting for QMP; charged its max until its size is read";
  Millis targetChangedMs = 0;
  bool targetEverChanged = false;

  bool shrinkPending = false;  // guest told, device not yet shrunk
  uint64_t shrinkToBytes = 0;
  Millis shrinkDeadlineMs = 0;

  std::optional<uint64_t> quotaToldBytes;  // last quota the guest acked
  uint64_t linkConnectsSeen = 0;
  std::string lastError;

  // Cumulative, for the status document and the metrics.
  uint64_t decisions = 0;  // the policy changed the VM's quota
  uint64_t resizes = 0;    // qom-sets of requested-size QEMU confirmed
  uint64_t qmpErrors = 0;  // failed QMP connects and commands
  // Size-change events the backend followed (libvirt), as of its last job.
  std::optional<uint64_t> sizeEvents;
};

}  // namespace htier

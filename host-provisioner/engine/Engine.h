// SPDX-License-Identifier: GPL-2.0
//
// The engine orders the work; the decisions live in the policy.  Each
// tick() it, for every VM: keeps QMP connected (adopting devices on
// connect), reads guest reports, and drives the fast (and slow) device
// toward its target with the resize protocol:
//   shrink: tell the guest (quota, effective_in_ms), wait, then qom-set;
//   grow:   qom-set at once (only into memory that is really free), then
//           tell the guest.
// Every interval_ms it runs the policy over the active VMs and damps the
// result with the Stabilizer.
//
// Invariant: the fast memory charged to VMs, each at max(plugged size,
// requested size), never exceeds fast_capacity_bytes through our doing.
// A grow is only issued into capacity that no VM holds or may still plug,
// so memory being unplugged is not handed out until it is really gone.
#pragma once

#include <memory>
#include <vector>

#include "config/Config.h"
#include "engine/VmRuntime.h"
#include "policy/Policy.h"
#include "policy/Stabilizer.h"
#include "status/Status.h"

namespace htier {

struct VmPorts {
  std::unique_ptr<QmpRunner> qmp;  // runInline() or runOnThread() a VmControl
  std::unique_ptr<GuestChannel> link;
};

class Engine {
 public:
  Engine(Config cfg, std::unique_ptr<Policy> policy, std::vector<VmPorts> ports,
         ClockFn clock = monotonicMillis);
  // Stops every VM's QMP runner before any is joined, so shutdown waits
  // for no QEMU.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void tick();
  EngineStatus status() const;
  // Every VM's first QMP attempt has finished (adopted, or failed): until
  // then a VM's size is unknown and it is charged its max.
  bool firstQmpRoundDone() const;

  // For tests.
  const VmRuntime& vm(size_t i) const { return vms_[i]; }
  void runPolicyNow() { nextPolicyMs_ = 0; }

 private:
  // QMP work is asynchronous (qmp/QmpRunner.h): submit() queues a job,
  // collect() runs the completions of finished ones.
  bool submit(VmRuntime& vm, QmpRunner::Job job);
  void collect(VmRuntime& vm);

  void maintainQmp(VmRuntime& vm, Millis now);
  void connectDone(VmRuntime& vm, const Status& connected,
                   const std::optional<Maybe<VmDevices>>& found,
                   const std::optional<Maybe<DeviceInfo>>& fast,
                   const std::optional<Maybe<DeviceInfo>>& slow);
  // The devices and guest link a connect found (libvirt: from the XML).
  void useDevices(VmRuntime& vm, const VmDevices& found);
  Status adopt(VmRuntime& vm, Millis now, const Maybe<DeviceInfo>& fast,
               const std::optional<Maybe<DeviceInfo>>& slow);
  void markLost(VmRuntime& vm, Millis now, const std::string& why);
  // A QMP connect or command failed: counted, kept as the VM's last error.
  void qmpError(VmRuntime& vm, std::string what);
  void connectFailed(VmRuntime& vm, Millis now, const Error& err);
  void qemuPresent(VmRuntime& vm);
  void readGuest(VmRuntime& vm, Millis now);
  struct DevicePoll {
    std::optional<Maybe<uint64_t>> requested;  // read back when in doubt
    std::optional<Maybe<uint64_t>> size;
  };
  bool readBackRequest(VmRuntime& vm, DeviceRuntime& dev,
                       const Maybe<uint64_t>& requested, Millis now);
  void refreshSizes(VmRuntime& vm);
  void pollDone(VmRuntime& vm, const std::vector<DevicePoll>& polls);
  void sizeRead(VmRuntime& vm, DeviceRuntime& dev, uint64_t size, Millis now);
  void enforce(VmRuntime& vm, Millis now);
  void enforceSlow(VmRuntime& vm);
  void tellGuest(VmRuntime& vm, uint64_t deviceBytes, Millis effectiveInMs);
  // Queues a qom-set; applied() runs once QEMU confirmed it.
  void resize(VmRuntime& vm, DeviceRuntime& dev, uint64_t bytes,
              std::function<void()> applied = nullptr);
  void resizeDone(VmRuntime& vm, DeviceRuntime& dev, uint64_t bytes,
                  const Status& st, const std::function<void()>& applied);
  void runPolicy(Millis now);
  VmDemand demandOf(const VmRuntime& vm, Millis now) const;

  uint64_t chargedBytes(const VmRuntime& vm) const;
  uint64_t chargedByOthers(const VmRuntime& vm) const;

  Config cfg_;
  std::unique_ptr<Policy> policy_;
  std::vector<VmRuntime> vms_;
  ClockFn clock_;
  Millis nextPolicyMs_ = 0;
  uint64_t policyRuns_ = 0;
};

}  // namespace htier

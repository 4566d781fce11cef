// SPDX-License-Identifier: GPL-2.0
#include "engine/Engine.h"

#include <algorithm>
#include <cerrno>

#include "policy/Curve.h"
#include "util/Log.h"
#include "util/Units.h"

namespace htier {

namespace {
constexpr Millis kQmpRetryMs = 1000;
// Curve points kept per guest for the policy (htier-agent sends <= 17).
constexpr size_t kPolicyCurvePoints = 32;

// Connecting to QMP failed because no QEMU is there: its socket is gone,
// or nothing listens on it any more.  Any other failure (a timeout, a
// monitor held by another client) leaves QEMU, and its memory, in place.
bool qemuAbsent(const Error& e) {
  return e.sysErrno == ENOENT || e.sysErrno == ECONNREFUSED;
}
}  // namespace

const char* phaseName(VmPhase p) {
  switch (p) {
    case VmPhase::kConnecting:
      return "connecting";
    case VmPhase::kActive:
      return "active";
    case VmPhase::kLost:
      return "lost";
    case VmPhase::kReleased:
      return "released";
  }
  return "?";
}

Engine::Engine(Config cfg, std::unique_ptr<Policy> policy,
               std::vector<VmPorts> ports, ClockFn clock)
    : cfg_(std::move(cfg)),
      policy_(std::move(policy)),
      clock_(std::move(clock)) {
  vms_.resize(cfg_.vms.size());
  for (size_t i = 0; i < vms_.size(); i++) {
    VmRuntime& vm = vms_[i];
    vm.cfg = cfg_.vms[i];
    vm.qmp = std::move(ports[i].qmp);
    vm.link = std::move(ports[i].link);
    vm.fast.id = vm.cfg.fastDevice;
    if (vm.cfg.slowDevice) {
      vm.slow.emplace();
      vm.slow->id = *vm.cfg.slowDevice;
    }
  }
}

Engine::~Engine() {
  for (auto& vm : vms_)
    if (vm.qmp)
      vm.qmp->stop();
}

// ---- accounting -----------------------------------------------------------

uint64_t Engine::chargedBytes(const VmRuntime& vm) const {
  switch (vm.phase) {
    case VmPhase::kActive:
      return vm.fast.chargedBytes();
    case VmPhase::kLost:
    case VmPhase::kConnecting: {
      // QEMU may be there with memory we cannot see: hold what it had,
      // or, never seen, all it may have.
      uint64_t held =
          vm.sizesKnown ? vm.fast.chargedBytes() : vm.cfg.maxFastBytes;
      return std::max(held, vm.cfg.minFastBytes);
    }
    case VmPhase::kReleased:
      // Gone: keep its guarantee reserved for its return.
      return vm.cfg.minFastBytes;
  }
  return 0;
}

uint64_t Engine::chargedByOthers(const VmRuntime& self) const {
  uint64_t s = 0;
  for (const auto& vm : vms_)
    if (&vm != &self)
      s += chargedBytes(vm);
  return s;
}

// ---- QMP lifecycle --------------------------------------------------------

Status Engine::adopt(VmRuntime& vm, Millis now, const Maybe<DeviceInfo>& fast,
                     const std::optional<Maybe<DeviceInfo>>& slow) {
  if (!fast)
    return makeError("fast_device " + vm.fast.id + ": " + fast.message());
  vm.fast.info = *fast;
  vm.fast.progressAtMs = now;
  vm.fast.stuck = false;
  vm.fast.requestInDoubtBytes.reset();
  vm.fast.setInFlight = false;
  if (vm.slow) {
    if (!slow || !*slow)
      return makeError("slow_device " + vm.slow->id + ": " +
                       (slow ? slow->message() : "not read"));
    vm.slow->info = **slow;
    vm.slow->progressAtMs = now;
    vm.slow->stuck = false;
    vm.slow->requestInDoubtBytes.reset();
    vm.slow->setInFlight = false;
  }
  // Pin the VM where it is until its guest reports: a restarted
  // provisioner must not take memory from a guest it knows nothing about.
  vm.targetBytes = vm.fast.info.requestedBytes;
  vm.targetChangedMs = now;
  vm.targetEverChanged = false;
  vm.awaitingReport = true;
  vm.shrinkPending = false;
  vm.quotaToldBytes.reset();
  vm.reason = "adopted; waiting for a fresh guest report";
  if (vm.link)
    vm.link->takeReport();  // anything queued predates the adoption
  vm.phase = VmPhase::kActive;
  vm.sizesKnown = true;
  HLOG(kInfo) << vm.cfg.name << ": adopted " << vm.fast.id << " size "
              << formatBytes(fast->sizeBytes) << " requested "
              << formatBytes(fast->requestedBytes) << " max "
              << formatBytes(fast->maxBytes) << " block "
              << formatBytes(fast->blockBytes);
  if (fast->maxBytes < vm.cfg.minFastBytes)
    HLOG(kError) << vm.cfg.name << ": min_fast_bytes "
                 << formatBytes(vm.cfg.minFastBytes)
                 << " is more than the device can hold ("
                 << formatBytes(fast->maxBytes) << ")";
  return okStatus();
}

void Engine::markLost(VmRuntime& vm, Millis now, const std::string& why) {
  vm.lastError = why;
  if (vm.phase == VmPhase::kActive) {
    HLOG(kWarning) << vm.cfg.name << ": QMP lost (" << why << "); holding "
                   << formatBytes(chargedBytes(vm))
                   << " until it is back, or its QEMU is gone for "
                   << cfg_.vmGoneGraceMs << " ms";
    vm.phase = VmPhase::kLost;
    vm.reason = "QMP lost; its memory stays held";
  }
  vm.nextConnectMs = now + kQmpRetryMs;
}

void Engine::qmpError(VmRuntime& vm, std::string what) {
  vm.qmpErrors++;
  vm.lastError = std::move(what);
}

void Engine::qemuPresent(VmRuntime& vm) {
  vm.qemuAbsentSinceMs.reset();
  if (vm.phase != VmPhase::kReleased)
    return;
  HLOG(kWarning) << vm.cfg.name << ": its QEMU is back; charged its max "
                 << "until its size is read";
  vm.phase = VmPhase::kConnecting;
  vm.reason = "QEMU back; charged its max until its size is read";
}

void Engine::connectFailed(VmRuntime& vm, Millis now, const Error& err) {
  if (vm.lastError != err.message)
    HLOG(kWarning) << vm.cfg.name << ": " << err.message;
  qmpError(vm, err.message);
  if (!qemuAbsent(err)) {
    qemuPresent(vm);
    return;
  }
  if (!vm.qemuAbsentSinceMs)
    vm.qemuAbsentSinceMs = now;
  if (vm.phase != VmPhase::kReleased &&
      now - *vm.qemuAbsentSinceMs >= cfg_.vmGoneGraceMs) {
    HLOG(kWarning) << vm.cfg.name << ": no QEMU for " << cfg_.vmGoneGraceMs
                   << " ms; its fast memory returns to the pool";
    vm.phase = VmPhase::kReleased;
    vm.reason = "VM gone; share returned to the pool";
    vm.targetBytes = 0;
    vm.sizesKnown = false;  // a new QEMU starts with sizes of its own
  }
}

bool Engine::submit(VmRuntime& vm, QmpRunner::Job job) {
  // Whatever the job does, its completion runs and counts it as done.
  auto counted = [&vm, job = std::move(job)](VmControl& c) {
    QmpRunner::Completion done;
    try {
      done = job(c);
    } catch (const std::exception& e) {
      HLOG(kError) << vm.cfg.name << ": QMP job failed: " << e.what();
    } catch (...) {
      HLOG(kError) << vm.cfg.name << ": QMP job failed";
    }
    return QmpRunner::Completion([&vm, done = std::move(done)] {
      vm.qmpJobs--;
      if (done)
        done();
    });
  };
  if (!vm.qmp->submit(std::move(counted)))
    return false;
  vm.qmpJobs++;
  collect(vm);  // an inline runner has finished it already
  return true;
}

void Engine::collect(VmRuntime& vm) {
  while (auto done = vm.qmp->takeCompletion())
    (*done)();
}

void Engine::maintainQmp(VmRuntime& vm, Millis now) {
  if (vm.phase == VmPhase::kActive) {
    if (!vm.qmpConnected)
      markLost(vm, now, "QMP disconnected");
    return;
  }
  if (vm.qmpJobs > 0 || now < vm.nextConnectMs)
    return;
  vm.nextConnectMs = now + kQmpRetryMs;
  VmDevices configured{vm.cfg.fastDevice, vm.cfg.slowDevice, std::nullopt};
  (void)submit(vm, [this, &vm, configured](VmControl& c) {
    Status st = c.connect();
    std::optional<Maybe<VmDevices>> found;
    std::optional<Maybe<DeviceInfo>> fast, slow;
    if (st) {
      found = c.findDevices(configured);
      if (*found) {
        fast = c.describe((*found)->fast);
        if (*fast && (*found)->slow)
          slow = c.describe(*(*found)->slow);
      }
    }
    bool connected = c.connected();
    std::optional<uint64_t> events = c.sizeEvents();
    return [this, &vm, st, found, fast, slow, connected, events] {
      vm.qmpConnected = connected;
      vm.sizeEvents = events;
      connectDone(vm, st, found, fast, slow);
    };
  });
}

void Engine::useDevices(VmRuntime& vm, const VmDevices& found) {
  // No job of the VM is outstanding (a connect is submitted only then):
  // nothing refers to the devices being replaced.
  auto fresh = [](const std::string& id) {
    DeviceRuntime d;
    d.id = id;
    return d;
  };
  if (vm.fast.id != found.fast)
    vm.fast = fresh(found.fast);
  if (!found.slow)
    vm.slow.reset();
  else if (!vm.slow || vm.slow->id != *found.slow)
    vm.slow = fresh(*found.slow);
  if (found.channelPath && vm.link)
    vm.link->setPath(*found.channelPath);
}

void Engine::connectDone(VmRuntime& vm, const Status& connected,
                         const std::optional<Maybe<VmDevices>>& found,
                         const std::optional<Maybe<DeviceInfo>>& fast,
                         const std::optional<Maybe<DeviceInfo>>& slow) {
  Millis now = clock_();
  vm.connectAttempts++;
  // Retry a second after the attempt ended, however long it took.
  vm.nextConnectMs = now + kQmpRetryMs;
  if (!connected) {
    connectFailed(vm, now, connected.error());
    return;
  }
  qemuPresent(vm);
  if (!*found) {
    // Reached, but not manageable (e.g. a domain without the devices):
    // charged its max like a VM not adopted yet, and retried.
    if (vm.lastError != found->message())
      HLOG(kWarning) << vm.cfg.name << ": " << found->message();
    qmpError(vm, found->message());
    return;
  }
  useDevices(vm, **found);
  if (auto st = adopt(vm, now, *fast, slow); !st) {
    if (vm.lastError != st.message())
      HLOG(kWarning) << vm.cfg.name << ": " << st.message();
    qmpError(vm, st.message());
    return;
  }
  vm.lastError.clear();
}

// ---- guest reports --------------------------------------------------------

void Engine::readGuest(VmRuntime& vm, Millis now) {
  if (!vm.link)
    return;
  vm.link->poll(now);
  if (auto r = vm.link->takeReport()) {
    vm.report = std::move(*r);
    // A guest may send 256 points; the policy's cost grows with them.
    vm.report->curve = simplifyCurve(vm.report->curve, kPolicyCurvePoints);
    vm.reportAtMs = now;
    if (vm.awaitingReport && vm.phase == VmPhase::kActive) {
      HLOG(kInfo) << vm.cfg.name << ": first report since adoption (hot set "
                  << formatBytes(vm.report->hotSetBytes) << ")";
      vm.awaitingReport = false;
    }
  }
  // A new connection may be a restarted agent: tell it its quota again.
  uint64_t connects = vm.link->counters().connects;
  if (connects != vm.linkConnectsSeen) {
    vm.linkConnectsSeen = connects;
    vm.quotaToldBytes.reset();
  }
}

// ---- enforcement ----------------------------------------------------------

void Engine::resize(VmRuntime& vm, DeviceRuntime& dev, uint64_t bytes,
                    std::function<void()> applied) {
  if (dev.setInFlight)
    return;
  // Until QEMU confirms, the request is either: charge the larger.
  std::optional<uint64_t> doubtBefore = dev.requestInDoubtBytes;
  dev.requestInDoubtBytes = std::max(bytes, doubtBefore.value_or(0));
  dev.setInFlight = true;
  std::string id = dev.id;
  bool queued = submit(vm, [this, &vm, &dev, id, bytes,
                            applied = std::move(applied)](VmControl& c) {
    Status st = c.setRequestedSize(id, bytes);
    bool connected = c.connected();
    return [this, &vm, &dev, bytes, st, connected, applied] {
      vm.qmpConnected = connected;
      resizeDone(vm, dev, bytes, st, applied);
    };
  });
  if (!queued) {
    dev.setInFlight = false;
    dev.requestInDoubtBytes = doubtBefore;
  }
}

void Engine::resizeDone(VmRuntime& vm, DeviceRuntime& dev, uint64_t bytes,
                        const Status& st,
                        const std::function<void()>& applied) {
  Millis now = clock_();
  dev.setInFlight = false;
  if (!st) {
    // Without a reply QEMU may have applied it; an error reply says it
    // did not, but reading it back costs one qom-get and is always right.
    // The request stays in doubt (charged at the larger) until then.
    qmpError(vm, "qom-set " + dev.id + " requested-size " +
                     std::to_string(bytes) + ": " + st.message());
    HLOG(kError) << vm.cfg.name << ": " << vm.lastError
                 << "; reading requested-size back";
    if (!vm.qmpConnected)
      markLost(vm, now, st.message());
    return;
  }
  HLOG(kInfo) << vm.cfg.name << ": " << dev.id << " requested-size "
              << formatBytes(dev.info.requestedBytes) << " -> "
              << formatBytes(bytes);
  dev.info.requestedBytes = bytes;
  dev.requestInDoubtBytes.reset();
  dev.progressAtMs = now;
  vm.resizes++;
  if (applied)
    applied();
}

bool Engine::readBackRequest(VmRuntime& vm, DeviceRuntime& dev,
                             const Maybe<uint64_t>& requested, Millis now) {
  if (!requested) {
    qmpError(vm,
             "qom-get " + dev.id + " requested-size: " + requested.message());
    if (!vm.qmpConnected)
      markLost(vm, now, requested.message());
    return false;
  }
  if (!dev.requestInDoubtBytes || dev.setInFlight)
    return true;
  HLOG(kInfo) << vm.cfg.name << ": " << dev.id << " requested-size is "
              << formatBytes(*requested) << " (the qom-set of "
              << formatBytes(*dev.requestInDoubtBytes)
              << (*requested == *dev.requestInDoubtBytes ? " was" : " was not")
              << " applied)";
  if (*requested != dev.info.requestedBytes) {
    dev.info.requestedBytes = *requested;
    dev.progressAtMs = now;
  }
  dev.requestInDoubtBytes.reset();
  return true;
}

void Engine::refreshSizes(VmRuntime& vm) {
  // Events are rate-limited to one per second per device, so the size is
  // polled; it is cheap (one qom-get per device per tick).  One poll at a
  // time: a VM that does not answer is not asked again meanwhile.
  if (vm.phase != VmPhase::kActive || vm.polling)
    return;
  struct Want {
    std::string id;
    bool readBack;  // a request in doubt with no qom-set on its way
  };
  std::vector<Want> wants;
  for (DeviceRuntime* dev : {&vm.fast, vm.slow ? &*vm.slow : nullptr})
    if (dev)
      wants.push_back({dev->id, dev->requestInDoubtBytes && !dev->setInFlight});
  vm.polling = true;
  bool queued = submit(vm, [this, &vm, wants](VmControl& c) {
    std::vector<DevicePoll> polls(wants.size());
    for (size_t i = 0; i < wants.size(); i++) {
      if (wants[i].readBack) {
        polls[i].requested = c.requestedSize(wants[i].id);
        if (!*polls[i].requested)
          continue;
      }
      polls[i].size = c.size(wants[i].id);
    }
    bool connected = c.connected();
    std::optional<uint64_t> events = c.sizeEvents();
    return [this, &vm, polls, connected, events] {
      vm.polling = false;
      vm.qmpConnected = connected;
      vm.sizeEvents = events;
      pollDone(vm, polls);
    };
  });
  if (!queued)
    vm.polling = false;
}

void Engine::pollDone(VmRuntime& vm, const std::vector<DevicePoll>& polls) {
  Millis now = clock_();
  std::vector<DeviceRuntime*> devs{&vm.fast};
  if (vm.slow)
    devs.push_back(&*vm.slow);
  for (size_t i = 0; i < devs.size() && i < polls.size(); i++) {
    if (vm.phase != VmPhase::kActive)
      return;
    DeviceRuntime& dev = *devs[i];
    const DevicePoll& p = polls[i];
    if (p.requested && !readBackRequest(vm, dev, *p.requested, now))
      continue;
    if (!p.size)
      continue;
    if (!*p.size) {
      qmpError(vm, "qom-get " + dev.id + " size: " + p.size->message());
      if (!vm.qmpConnected)
        markLost(vm, now, p.size->message());
      continue;
    }
    sizeRead(vm, dev, **p.size, now);
  }
}

void Engine::sizeRead(VmRuntime& vm, DeviceRuntime& dev, uint64_t size,
                      Millis now) {
  bool moved = size != dev.info.sizeBytes;
  dev.info.sizeBytes = size;
  if (moved)
    dev.progressAtMs = now;
  bool over = dev.info.sizeBytes > dev.info.requestedBytes;
  // Stuck means no progress for a while, not slow: a large unplug may
  // take longer than the timeout and must not be second-guessed.
  if (over && !dev.stuck && now - dev.progressAtMs >= cfg_.unplugTimeoutMs) {
    dev.stuck = true;
    HLOG(kWarning) << vm.cfg.name << ": " << dev.id << " is stuck at "
                   << formatBytes(dev.info.sizeBytes) << " (requested "
                   << formatBytes(dev.info.requestedBytes) << ", no progress"
                   << " for " << cfg_.unplugTimeoutMs
                   << " ms): the guest cannot unplug; accounting it at its "
                      "real size";
  } else if (dev.stuck && (moved || !over)) {
    dev.stuck = false;
    // The quota was raised to the stuck size only to account for it:
    // back to the request, so the unplug is not undone by a grow.
    if (&dev == &vm.fast)
      vm.targetBytes = std::min(vm.targetBytes, dev.info.requestedBytes);
    HLOG(kInfo) << vm.cfg.name << ": " << dev.id << " unplug "
                << (over ? "goes on" : "completed") << "; quota "
                << formatBytes(vm.targetBytes);
  }
}

void Engine::tellGuest(VmRuntime& vm, uint64_t deviceBytes,
                       Millis effectiveInMs) {
  if (!vm.link || !vm.link->connected())
    return;
  uint64_t guestBytes = deviceBytes + vm.cfg.fastBaseBytes;
  if (vm.link->sendQuota(guestBytes, static_cast<uint64_t>(effectiveInMs)))
    vm.quotaToldBytes = deviceBytes;
}

void Engine::enforceSlow(VmRuntime& vm) {
  if (!vm.slow || vm.awaitingReport || vm.slow->setInFlight ||
      vm.slow->requestInDoubtBytes)
    return;
  DeviceRuntime& s = *vm.slow;
  // The guest keeps fast + slow = total; the slow side follows the lower
  // of the fast device's target and its request, so it grows before a fast
  // shrink, and shrinks only once a fast grow is plugged: until then the
  // guest would be short of memory it is meant to have.
  uint64_t total = vm.cfg.totalBytes.value_or(vm.cfg.maxFastBytes);
  uint64_t fastNow = std::min(vm.targetBytes, vm.fast.info.requestedBytes);
  uint64_t want = total > fastNow ? total - fastNow : 0;
  want = std::min(alignUp(want, s.info.blockBytes),
                  alignDown(s.info.maxBytes, s.info.blockBytes));
  if (want < s.info.requestedBytes && vm.fast.info.sizeBytes < fastNow)
    return;
  if (want != s.info.requestedBytes)
    resize(vm, s, want);
}

void Engine::enforce(VmRuntime& vm, Millis now) {
  DeviceRuntime& f = vm.fast;
  const uint64_t target = vm.targetBytes;
  const uint64_t requested = f.info.requestedBytes;

  if (target > requested) {
    vm.shrinkPending = false;
    uint64_t others = chargedByOthers(vm);
    uint64_t room =
        cfg_.fastCapacityBytes > others ? cfg_.fastCapacityBytes - others : 0;
    uint64_t grow = alignDown(std::min(target, room), f.info.blockBytes);
    // A device above its request is unplugging: growing it would only
    // cancel the unplug and re-plug what the guest is giving back.  Only a
    // stuck one is grown, and only beyond what it really holds.
    bool unplugging = f.info.sizeBytes > requested;
    bool mayGrow =
        unplugging ? f.stuck && grow > f.info.sizeBytes : grow > requested;
    if (mayGrow)
      resize(vm, f, grow, [this, &vm, grow] { tellGuest(vm, grow, 0); });
  } else if (target < requested) {
    if (!vm.shrinkPending || target < vm.shrinkToBytes) {
      if (!vm.shrinkPending)
        vm.shrinkDeadlineMs = now + cfg_.shrinkNoticeMs;
      vm.shrinkPending = true;
      vm.shrinkToBytes = target;
      enforceSlow(vm);  // room to demote into, before the deadline
      tellGuest(vm, target, cfg_.shrinkNoticeMs);
      HLOG(kInfo) << vm.cfg.name << ": shrinking to " << formatBytes(target)
                  << " in " << cfg_.shrinkNoticeMs << " ms";
    } else if (target > vm.shrinkToBytes) {
      vm.shrinkToBytes = target;
      tellGuest(vm, target, std::max<Millis>(0, vm.shrinkDeadlineMs - now));
    }
    if (now >= vm.shrinkDeadlineMs)
      resize(vm, f, vm.shrinkToBytes, [&vm] { vm.shrinkPending = false; });
  } else {
    vm.shrinkPending = false;
    if (vm.quotaToldBytes != requested && !vm.awaitingReport)
      tellGuest(vm, requested, 0);
  }
  enforceSlow(vm);
}

// ---- policy ---------------------------------------------------------------

VmDemand Engine::demandOf(const VmRuntime& vm, Millis now) const {
  VmDemand d;
  const DeviceRuntime& f = vm.fast;
  d.name = vm.cfg.name;
  d.blockBytes = f.info.blockBytes;
  d.weight = vm.cfg.weight;
  d.currentBytes = vm.targetBytes;
  d.ceilingBytes =
      alignDown(std::min(vm.cfg.maxFastBytes, f.info.maxBytes), d.blockBytes);
  d.floorBytes = std::min(alignUp(vm.cfg.minFastBytes, d.blockBytes),
                          alignDown(f.info.maxBytes, d.blockBytes));
  if (f.stuck)  // real memory that cannot be taken back: policy sees it
    d.floorBytes =
        std::max(d.floorBytes, alignUp(f.info.sizeBytes, d.blockBytes));
  if (vm.awaitingReport) {
    uint64_t pinned =
        std::max(d.floorBytes, alignUp(vm.targetBytes, d.blockBytes));
    d.floorBytes = d.ceilingBytes = pinned;
  }
  d.ceilingBytes = std::max(d.ceilingBytes, d.floorBytes);

  const uint64_t base = vm.cfg.fastBaseBytes;
  bool fresh = vm.report && now - vm.reportAtMs < cfg_.reportStaleMs;
  if (fresh && !vm.awaitingReport) {
    const GuestReport& r = *vm.report;
    d.hotSetBytes = r.hotSetBytes > base ? r.hotSetBytes - base : 0;
    if (!r.curve.empty()) {
      // Move the curve from guest fast bytes to device bytes.
      d.curve.push_back({0, curveShare(r.curve, base)});
      for (const auto& p : r.curve)
        if (p.fastBytes > base)
          d.curve.push_back({p.fastBytes - base, p.share});
    }
    bool rising =
        !d.curve.empty() && d.curve.back().share > d.curve.front().share;
    d.hasDemand = d.hotSetBytes > 0 || rising;
  }
  return d;
}

void Engine::runPolicy(Millis now) {
  PolicyInput in;
  std::vector<size_t> index;
  uint64_t heldElsewhere = 0;
  for (size_t i = 0; i < vms_.size(); i++) {
    if (vms_[i].phase == VmPhase::kActive) {
      in.vms.push_back(demandOf(vms_[i], now));
      index.push_back(i);
    } else {
      heldElsewhere += chargedBytes(vms_[i]);
    }
  }
  if (in.vms.empty())
    return;
  in.capacityBytes = cfg_.fastCapacityBytes > heldElsewhere
                         ? cfg_.fastCapacityBytes - heldElsewhere
                         : 0;
  std::vector<Quota> quotas = policy_->allocate(in);
  policyRuns_++;

  std::vector<StabilizerVm> sv;
  for (size_t k = 0; k < in.vms.size(); k++) {
    const VmRuntime& vm = vms_[index[k]];
    sv.push_back({vm.targetBytes, quotas[k].bytes, in.vms[k].floorBytes,
                  in.vms[k].ceilingBytes, in.vms[k].blockBytes,
                  vm.targetChangedMs, vm.targetEverChanged});
  }
  auto next =
      stabilize(in.capacityBytes, sv, now, {cfg_.holdMs, cfg_.hysteresisBytes});
  for (size_t k = 0; k < in.vms.size(); k++) {
    VmRuntime& vm = vms_[index[k]];
    if (vm.awaitingReport) {
      // Pinned: only ever raised, to its guarantee.
      if (next[k] <= vm.targetBytes)
        continue;
      vm.reason = "adopted; raised to its min guarantee; waiting for a report";
    } else {
      vm.reason = quotas[k].reason;
    }
    if (next[k] != quotas[k].bytes)
      vm.reason += " (held: hysteresis/hold time)";
    if (next[k] == vm.targetBytes)
      continue;
    HLOG(kInfo) << vm.cfg.name << ": quota " << formatBytes(vm.targetBytes)
                << " -> " << formatBytes(next[k]) << ": " << vm.reason;
    vm.targetBytes = next[k];
    vm.targetChangedMs = now;
    vm.targetEverChanged = true;
    vm.decisions++;
  }
}

// ---- the loop -------------------------------------------------------------

void Engine::tick() {
  for (auto& vm : vms_)
    collect(vm);  // QMP jobs finished since the last tick
  Millis now = clock_();
  for (auto& vm : vms_) {
    maintainQmp(vm, now);
    readGuest(vm, now);
    refreshSizes(vm);
  }
  if (now >= nextPolicyMs_) {
    runPolicy(now);
    nextPolicyMs_ = now + cfg_.intervalMs;
  }
  // Shrinks first: a grow only goes into memory that is really free.  A
  // VM with a request in doubt (a qom-set on its way, or one whose reply
  // was lost) waits until it is known.
  auto enforceable = [](const VmRuntime& vm) {
    return vm.phase == VmPhase::kActive && !vm.fast.requestInDoubtBytes &&
           !(vm.slow && vm.slow->requestInDoubtBytes);
  };
  for (auto& vm : vms_)
    if (enforceable(vm) && vm.targetBytes < vm.fast.info.requestedBytes)
      enforce(vm, now);
  for (auto& vm : vms_)
    if (enforceable(vm) && vm.targetBytes >= vm.fast.info.requestedBytes)
      enforce(vm, now);
}

bool Engine::firstQmpRoundDone() const {
  return std::all_of(vms_.begin(), vms_.end(), [](const VmRuntime& vm) {
    return vm.connectAttempts > 0;
  });
}

EngineStatus Engine::status() const {
  EngineStatus s;
  s.policy = cfg_.policy;
  s.capacityBytes = cfg_.fastCapacityBytes;
  s.policyRuns = policyRuns_;
  Millis now = clock_();
  for (const auto& vm : vms_) {
    VmStatus v;
    v.name = vm.cfg.name;
    v.phase = phaseName(vm.phase);
    v.quotaBytes = vm.targetBytes;
    v.pluggedBytes = vm.fast.info.sizeBytes;
    v.requestedBytes = vm.fast.info.requestedBytes;
    v.chargedBytes = chargedBytes(vm);
    v.deviceMaxBytes = vm.fast.info.maxBytes;
    v.blockBytes = vm.fast.info.blockBytes;
    v.minFastBytes = vm.cfg.minFastBytes;
    v.maxFastBytes = vm.cfg.maxFastBytes;
    v.weight = vm.cfg.weight;
    v.stuck = vm.fast.stuck;
    v.shrinkPending = vm.shrinkPending;
    v.awaitingReport = vm.awaitingReport;
    if (vm.slow) {
      v.slowPluggedBytes = vm.slow->info.sizeBytes;
      v.slowRequestedBytes = vm.slow->info.requestedBytes;
    }
    if (vm.link) {
      const LinkCounters& c = vm.link->counters();
      v.linkConnected = vm.link->connected();
      v.reports = c.reports;
      v.rejectedMessages = c.malformed + c.oversized;
      for (size_t r = 0; r < c.rejected.size(); r++)
        v.rejectedByReason[rejectReasonName(static_cast<RejectReason>(r))] =
            c.rejected[r];
      v.curvesDropped = c.curvesDropped;
    }
    if (vm.report) {
      v.hasReport = true;
      v.hotSetBytes = vm.report->hotSetBytes;
      v.fastResidentBytes = vm.report->fastResidentBytes;
      v.slowResidentBytes = vm.report->slowResidentBytes;
      v.reportAgeMs = now - vm.reportAtMs;
    }
    v.reason = vm.reason;
    v.lastError = vm.lastError;
    v.decisions = vm.decisions;
    v.resizes = vm.resizes;
    v.qmpErrors = vm.qmpErrors;
    v.sizeEvents = vm.sizeEvents;
    s.chargedBytes += v.chargedBytes;
    s.vms.push_back(std::move(v));
  }
  return s;
}

}  // namespace htier

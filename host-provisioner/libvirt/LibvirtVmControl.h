// SPDX-License-Identifier: GPL-2.0
//
// A VM's virtio-mem devices through libvirt (backend "libvirt"), with
// libvirt's C API, checked against libvirt 9.0 (design.md):
//   connect   virConnectOpen(uri), virDomainLookupByName(domain), the domain
//             running; its live XML read (libvirt/DomainXml.h);
//   findDevices  the virtio-mem device on guest node 0 is the fast one, the one
//             on node 1 (if any) the slow one, by their aliases; the guest
//             link is the org.htier.0 channel's socket;
//   sizes     from the live XML: <current> plugged, <requested>, <size> max,
//             <block>;
//   resize    virDomainUpdateDeviceFlags(<the live <memory> element with a
//             new <requested>>, VIR_DOMAIN_AFFECT_LIVE).
//
// Sizes: the plugged size follows VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE
// (each plug step, in KiB), on top of the live XML read at connect (before
// which the callbacks are registered, so no event falls between the two).
// A size poll then makes no libvirt call.  The live XML is read again at
// each reconnect (events may have been missed meanwhile), after each resize
// (the new <requested>), after any lifecycle or reboot event of the domain
// (stopped, started anew, undefined: found at once, as a poll did), and at
// least every xmlRefreshMs (5 s) as a safety net for events that never come;
// an event that arrived after the XML was read wins over it, an older one
// does not.  Without an event loop, or if libvirt refuses the callbacks,
// the XML is read per size poll (cached 50 ms, both devices from one).
//
// Faults, as the engine knows them from QMP: a domain that is not defined
// or not running fails connect() with ENOENT (no QEMU: released after
// vm_gone_grace_ms); libvirtd unreachable fails it without (QEMU may be
// there: its memory stays charged).  connected() turns false when the
// connection to libvirtd dies (libvirt's close callback, keepalive, a
// failed call) or the domain stops or is replaced by a new QEMU (its id
// changed), so the engine reconnects and re-adopts.
//
// Hung calls: libvirt has no per-call timeout.  virConnectOpen runs on a
// thread of its own: connect() waits for it at most timeoutMs (or until
// interrupt()) and then fails ("no answer"); the open goes on, and the
// next connect() waits for that same one (never two at a time), adopting
// its connection if it came; the destructor leaves it to close its
// connection itself.  Every connection gets a keepalive (1 s, about
// timeoutMs in all) on an event-loop thread of the process, which makes a
// later call to a libvirtd that stopped answering fail; interrupt() makes
// every later call fail at once, and one in progress ends with the
// keepalive.
#pragma once

#include <libvirt/libvirt.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "libvirt/DomainXml.h"
#include "qmp/VirtioMem.h"
#include "util/Clock.h"

namespace htier {

class LibvirtVmControl : public VmControl {
 public:
  static constexpr Millis kXmlRefreshMs = 5000;

  LibvirtVmControl(std::string uri, std::string domain, Millis timeoutMs,
                   Millis xmlRefreshMs = kXmlRefreshMs);
  ~LibvirtVmControl() override;
  LibvirtVmControl(const LibvirtVmControl&) = delete;
  LibvirtVmControl& operator=(const LibvirtVmControl&) = delete;

  Status connect() override;
  bool connected() const override;
  Maybe<VmDevices> findDevices(const VmDevices& configured) override;
  Maybe<DeviceInfo> describe(const std::string& device) override;
  Maybe<uint64_t> size(const std::string& device) override;
  Maybe<uint64_t> requestedSize(const std::string& device) override;
  Status setRequestedSize(const std::string& device, uint64_t bytes) override;
  void interrupt() override;
  // Size-change events received, over all connections.
  std::optional<uint64_t> sizeEvents() const override;

  // What libvirt's MEMORY_DEVICE_SIZE_CHANGE callback does, on the
  // event-loop thread (thread-safe, but not during a connect()): the
  // device @alias has @kib KiB plugged.  Public so that tests can play
  // libvirt's part, whose test driver sends no such event.
  void memoryDeviceSizeChanged(const char* alias, unsigned long long kib);

  // Whether this connection's sizes come from events; how many times the
  // live XML was read (tests).
  bool followsSizeEvents() const { return events_ != nullptr; }
  uint64_t xmlReads() const { return xmlReads_; }

  struct EventSink;    // what the callbacks share with this VM's thread
  struct PendingOpen;  // a virConnectOpen on its own thread

 private:
  struct Live {
    std::string xml;
    DomainXml parsed;
  };
  // The domain's live XML, at most kLiveCacheMs old (a size poll reads
  // both devices from one).
  Maybe<Live> live(bool fresh = false);
  Maybe<VirtioMemXml> device(const std::string& id);
  // libvirt's last error as a value, prefixed with @what; finds out
  // whether the connection or the domain is gone.
  Error failure(const std::string& what);
  Error domainGone(const std::string& why);
  Status usable() const;
  // virConnectOpen(uri_) on a thread of its own (or the one still under
  // way), waited for at most timeoutMs_.
  Maybe<virConnectPtr> open(bool eventLoop);
  // The callbacks on conn_/dom_; false where libvirt refuses them.
  bool followEvents();
  void disconnect();
  // An open still under way is left to close what it gets by itself.
  void abandonOpen();

  static constexpr Millis kLiveCacheMs = 50;

  std::string uri_;
  std::string domain_;
  Millis timeoutMs_;
  virConnectPtr conn_ = nullptr;
  virDomainPtr dom_ = nullptr;
  std::optional<long> domainId_;     // the running QEMU adopted
  bool lost_ = false;                // the connection or the domain is gone
  std::atomic<bool> closed_{false};  // set by libvirt's close callback
  std::atomic<bool> interrupted_{false};
  Millis xmlRefreshMs_;
  std::optional<Live> cached_;
  std::chrono::steady_clock::time_point cachedAt_;
  uint64_t cachedSeq_ = 0;  // events_'s count when cached_ was read
  // This connection's callbacks and what they say (shared with libvirt,
  // which drops its reference when it lets go of the callbacks).
  std::shared_ptr<EventSink> events_;
  int sizeCallback_ = -1, lifecycleCallback_ = -1, rebootCallback_ = -1;
  uint64_t pastSizeEvents_ = 0;  // on earlier connections
  uint64_t badEventsSeen_ = 0;
  uint64_t xmlReads_ = 0;
  // The open under way, if any (interrupt() reaches it from another thread).
  std::mutex openMu_;
  std::shared_ptr<PendingOpen> pending_;
};

}  // namespace htier

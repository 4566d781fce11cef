// SPDX-License-Identifier: GPL-2.0
#include "libvirt/LibvirtVmControl.h"

#include <libvirt/virterror.h>
#include <poll.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "util/Log.h"

namespace htier {

// What the domain's event callbacks (libvirt's event-loop thread) tell the
// VM's thread.  One per connection: events still on their way from an old
// connection land in its sink, which nobody reads.
struct LibvirtVmControl::EventSink {
  std::mutex mu;
  struct Size {
    uint64_t bytes;
    uint64_t seq;  // the event's place in seq
  };
  std::map<std::string, Size> sizes;  // the latest size event, by alias
  uint64_t seq = 0;                   // events taken, of any kind
  uint64_t sizeEvents = 0;            // size events believed
  uint64_t badEvents = 0;             // ... not believed
  std::string badEvent;               // the last of those, for the log
  bool reread = false;                // read the XML at the next call
};

// One virConnectOpen on a thread of its own.  The thread and whoever waits
// for it share this; the thread closes the connection itself if nobody
// will take it (abandoned).
struct LibvirtVmControl::PendingOpen {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;
  virConnectPtr conn = nullptr;
  std::string error;           // virConnectOpen's, when conn is null
  std::string keepAliveError;  // virConnectSetKeepAlive's, if it failed
  std::chrono::steady_clock::time_point started =
      std::chrono::steady_clock::now();
};

namespace {

using EventSink = LibvirtVmControl::EventSink;
using PendingOpen = LibvirtVmControl::PendingOpen;

// A size-change event above this (the config's bound on sizes, 4 PiB) is
// not a size libvirt can mean.
constexpr unsigned long long kMaxEventKiB = (1ull << 52) / 1024;

// Once per process: libvirt reports errors through us, not on stderr, and
// an event loop runs on a thread of its own (keepalive, close callbacks).
bool setUpLibvirt() {
  static bool eventLoop = false;
  static std::once_flag once;
  std::call_once(once, [] {
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
      HLOG(kWarning) << "libvirt: no event loop (" << virGetLastErrorMessage()
                     << "); a libvirtd that stops answering is not detected";
      return;
    }
    // The loop lives as long as the process; libvirt cannot stop it
    // cleanly, and a thread blocked in poll() holds nothing at exit.
    std::thread([] {
      for (;;)
        if (virEventRunDefaultImpl() < 0)
          ::poll(nullptr, 0, 100);
    }).detach();
    eventLoop = true;
  });
  return eventLoop;
}

void onClose(virConnectPtr, int, void* opaque) {
  static_cast<std::atomic<bool>*>(opaque)->store(true);
}

// The callbacks below are called by libvirt's event loop: nothing may
// leave them (a std::bad_alloc would end the process).
void sinkSize(EventSink& s, const char* alias, unsigned long long kib) {
  try {
    std::lock_guard<std::mutex> lock(s.mu);
    s.seq++;
    if (!alias || !*alias || kib > kMaxEventKiB) {
      s.badEvents++;
      s.badEvent = alias && *alias
                       ? "device '" + std::string(alias) + "' at " +
                             std::to_string(kib) + " KiB (above 4 PiB)"
                       : std::string("no device alias");
      s.reread = true;
      return;
    }
    s.sizes[alias] = {kib * 1024, s.seq};
    s.sizeEvents++;
  } catch (...) {
  }
}

void sinkStateChanged(EventSink& s) {
  try {
    std::lock_guard<std::mutex> lock(s.mu);
    s.seq++;
    s.reread = true;
  } catch (...) {
  }
}

EventSink& sinkOf(void* opaque) {
  return **static_cast<std::shared_ptr<EventSink>*>(opaque);
}

void onSizeChange(virConnectPtr, virDomainPtr, const char* alias,
                  unsigned long long kib, void* opaque) {
  sinkSize(sinkOf(opaque), alias, kib);
}

void onLifecycle(virConnectPtr, virDomainPtr, int, int, void* opaque) {
  sinkStateChanged(sinkOf(opaque));
}

void onReboot(virConnectPtr, virDomainPtr, void* opaque) {
  sinkStateChanged(sinkOf(opaque));
}

// libvirt lets go of a callback's opaque (after its last call has
// returned: a deregistration during a dispatch waits for it).
void releaseSink(void* opaque) {
  delete static_cast<std::shared_ptr<EventSink>*>(opaque);
}

// The body of an open's thread.
void runOpen(PendingOpen& p, const std::string& uri, int keepAliveCount) {
  virConnectPtr c = virConnectOpen(uri.c_str());
  std::string error, keepAlive;
  bool close = false;
  try {
    if (!c)
      error = virGetLastErrorMessage();
    else if (keepAliveCount > 0 &&
             virConnectSetKeepAlive(c, 1, keepAliveCount) < 0)
      keepAlive = virGetLastErrorMessage();
  } catch (...) {
    error = "out of memory";
  }
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.abandoned) {
      close = true;
    } else {
      p.conn = c;
      p.error = std::move(error);
      p.keepAliveError = std::move(keepAlive);
      p.done = true;
    }
    p.cv.notify_all();
  }
  if (close && c)
    virConnectClose(c);
}

std::string seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f",
                std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

LibvirtVmControl::LibvirtVmControl(std::string uri, std::string domain,
                                   Millis timeoutMs, Millis xmlRefreshMs)
    : uri_(std::move(uri)),
      domain_(std::move(domain)),
      timeoutMs_(timeoutMs),
      xmlRefreshMs_(xmlRefreshMs) {}

LibvirtVmControl::~LibvirtVmControl() {
  disconnect();
  abandonOpen();
}

void LibvirtVmControl::interrupt() {
  interrupted_ = true;
  std::shared_ptr<PendingOpen> p;
  {
    std::lock_guard<std::mutex> lock(openMu_);
    p = pending_;
  }
  if (p) {
    std::lock_guard<std::mutex> lock(p->mu);
    p->cv.notify_all();
  }
}

std::optional<uint64_t> LibvirtVmControl::sizeEvents() const {
  uint64_t n = pastSizeEvents_;
  if (events_) {
    std::lock_guard<std::mutex> lock(events_->mu);
    n += events_->sizeEvents;
  }
  return n;
}

void LibvirtVmControl::memoryDeviceSizeChanged(const char* alias,
                                               unsigned long long kib) {
  if (events_)
    sinkSize(*events_, alias, kib);
}

void LibvirtVmControl::abandonOpen() {
  std::shared_ptr<PendingOpen> p;
  {
    std::lock_guard<std::mutex> lock(openMu_);
    p = std::move(pending_);
    pending_.reset();
  }
  if (!p)
    return;
  virConnectPtr c = nullptr;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    if (p->done)
      std::swap(c, p->conn);
    else
      p->abandoned = true;  // its thread closes what it gets
  }
  if (c)
    virConnectClose(c);  // it has a keepalive: bounded
}

void LibvirtVmControl::disconnect() {
  cached_.reset();
  domainId_.reset();
  if (events_) {
    // A dead connection refuses deregistration; closing it frees all.
    bool alive = conn_ && virConnectIsAlive(conn_) == 1;
    for (int* id : {&sizeCallback_, &lifecycleCallback_, &rebootCallback_}) {
      if (*id >= 0 && alive)
        virConnectDomainEventDeregisterAny(conn_, *id);
      *id = -1;
    }
    std::lock_guard<std::mutex> lock(events_->mu);
    pastSizeEvents_ += events_->sizeEvents;
  }
  events_.reset();
  if (dom_)
    virDomainFree(dom_);
  dom_ = nullptr;
  if (conn_) {
    // After this returns the callback is not running, nor will it.
    virConnectUnregisterCloseCallback(conn_, onClose);
    virConnectClose(conn_);
  }
  conn_ = nullptr;
  lost_ = false;
  closed_ = false;
}

bool LibvirtVmControl::connected() const {
  return conn_ && dom_ && !lost_ && !closed_ && virConnectIsAlive(conn_) == 1;
}

Status LibvirtVmControl::usable() const {
  if (interrupted_)
    return makeError("interrupted");
  if (!connected())
    return makeError("not connected to libvirt");
  return okStatus();
}

Error LibvirtVmControl::domainGone(const std::string& why) {
  lost_ = true;
  return makeSysError("domain '" + domain_ + "' " + why, ENOENT);
}

Error LibvirtVmControl::failure(const std::string& what) {
  virErrorPtr e = virGetLastError();
  int code = e ? e->code : VIR_ERR_OK;
  std::string detail = what + ": " + virGetLastErrorMessage();
  if (code == VIR_ERR_NO_DOMAIN)
    return domainGone("is not defined any more (" + detail + ")");
  if (!conn_ || virConnectIsAlive(conn_) != 1) {
    lost_ = true;
    return makeError("domain '" + domain_ + "': " + detail +
                     " (the connection to libvirt is gone)");
  }
  if (dom_ && virDomainIsActive(dom_) == 0)
    return domainGone("is not running (" + detail + ")");
  return makeError("domain '" + domain_ + "': " + detail);
}

Maybe<virConnectPtr> LibvirtVmControl::open(bool eventLoop) {
  std::shared_ptr<PendingOpen> p;
  {
    std::lock_guard<std::mutex> lock(openMu_);
    if (!pending_) {
      // Dead after ~timeoutMs_ without an answer: a message a second.
      int keepAlive =
          eventLoop
              ? static_cast<int>(std::max<Millis>(1, timeoutMs_ / 1000 - 1))
              : 0;
      auto fresh = std::make_shared<PendingOpen>();
      try {
        std::thread([fresh, uri = uri_, keepAlive] {
          runOpen(*fresh, uri, keepAlive);
        }).detach();
      } catch (const std::exception& e) {
        return makeError("libvirt " + uri_ +
                         ": no thread for virConnectOpen: " + e.what());
      }
      pending_ = std::move(fresh);
    }
    p = pending_;
  }
  std::unique_lock<std::mutex> lock(p->mu);
  p->cv.wait_for(lock, std::chrono::milliseconds(timeoutMs_),
                 [&] { return p->done || interrupted_; });
  if (!p->done) {
    std::string waited = seconds(std::chrono::steady_clock::now() - p->started);
    lock.unlock();
    // The open goes on; the next connect() waits for it again.
    if (interrupted_)
      return makeError("interrupted (libvirt " + uri_ +
                       ": virConnectOpen had no answer after " + waited +
                       " s)");
    return makeError("libvirt " + uri_ + ": no answer from libvirtd within " +
                     std::to_string(timeoutMs_) +
                     " ms (it accepted the connection; virConnectOpen has "
                     "waited " +
                     waited + " s)");
  }
  virConnectPtr c = nullptr;
  std::swap(c, p->conn);
  std::string error = p->error, keepAlive = p->keepAliveError;
  lock.unlock();
  {
    std::lock_guard<std::mutex> l(openMu_);
    pending_.reset();
  }
  if (!c)
    // libvirtd away is not QEMU away: the domain may run on.
    return makeError("libvirt " + uri_ + ": " + error);
  if (!keepAlive.empty())
    HLOG(kDebug) << "libvirt " << uri_ << ": no keepalive: " << keepAlive;
  return c;
}

bool LibvirtVmControl::followEvents() {
  auto sink = std::make_shared<EventSink>();
  auto follow = [&](int id, virConnectDomainEventGenericCallback cb) {
    auto* ref = new std::shared_ptr<EventSink>(sink);
    int n = virConnectDomainEventRegisterAny(conn_, dom_, id, cb, ref,
                                             releaseSink);
    if (n < 0)
      delete ref;  // a refused registration does not call releaseSink
    return n;
  };
  events_ = sink;  // disconnect() deregisters what was registered
  sizeCallback_ =
      follow(VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
             VIR_DOMAIN_EVENT_CALLBACK(onSizeChange));
  if (sizeCallback_ >= 0)
    lifecycleCallback_ = follow(VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                VIR_DOMAIN_EVENT_CALLBACK(onLifecycle));
  if (lifecycleCallback_ >= 0)
    rebootCallback_ = follow(VIR_DOMAIN_EVENT_ID_REBOOT,
                             VIR_DOMAIN_EVENT_CALLBACK(onReboot));
  if (rebootCallback_ >= 0)
    return true;
  // Without all three the XML is polled, as without an event loop.
  std::string why = virGetLastErrorMessage();
  HLOG(kInfo) << "libvirt " << uri_ << ": domain '" << domain_
              << "': no domain events (" << why
              << "); sizes are read from its XML at each poll";
  for (int* id : {&sizeCallback_, &lifecycleCallback_}) {
    if (*id >= 0)
      virConnectDomainEventDeregisterAny(conn_, *id);
    *id = -1;
  }
  events_.reset();
  return false;
}

Status LibvirtVmControl::connect() {
  disconnect();
  if (interrupted_)
    return makeError("interrupted");
  bool eventLoop = setUpLibvirt();
  auto opened = open(eventLoop);
  if (!opened)
    return opened.error();
  conn_ = *opened;
  if (eventLoop &&
      virConnectRegisterCloseCallback(conn_, onClose, &closed_, nullptr) < 0)
    HLOG(kDebug) << "libvirt " << uri_
                 << ": no close callback: " << virGetLastErrorMessage();
  dom_ = virDomainLookupByName(conn_, domain_.c_str());
  if (!dom_) {
    virErrorPtr e = virGetLastError();
    Error err =
        e && e->code == VIR_ERR_NO_DOMAIN
            ? makeSysError("domain '" + domain_ + "' is not defined in " + uri_,
                           ENOENT)
            : failure("lookup in " + uri_);
    disconnect();
    return err;
  }
  int active = virDomainIsActive(dom_);
  if (active != 1) {
    Error err =
        active == 0
            ? makeSysError("domain '" + domain_ + "' is not running", ENOENT)
            : failure("state");
    disconnect();
    return err;
  }
  // Before the XML is read: no size change falls between the two.
  if (eventLoop)
    (void)followEvents();
  auto l = live(true);
  if (!l) {
    Error err = l.error();
    disconnect();
    return err;
  }
  domainId_ = l->parsed.id;
  return okStatus();
}

Maybe<LibvirtVmControl::Live> LibvirtVmControl::live(bool fresh) {
  if (auto st = usable(); !st)
    return st.error();
  bool reread = false;
  uint64_t seq = 0, bad = 0;
  std::string badEvent;
  if (events_) {
    std::lock_guard<std::mutex> lock(events_->mu);
    std::swap(reread, events_->reread);
    seq = events_->seq;
    bad = events_->badEvents;
    if (bad != badEventsSeen_)
      badEvent = events_->badEvent;
  }
  if (bad != badEventsSeen_) {
    HLOG(kWarning) << "domain '" << domain_ << "': ignored "
                   << bad - badEventsSeen_
                   << " malformed memory-device size-change event(s) from "
                      "libvirt (last: "
                   << badEvent << "); the sizes are read from its XML";
    badEventsSeen_ = bad;
  }
  auto now = std::chrono::steady_clock::now();
  // With events the XML is only a safety net for those that never come.
  Millis maxAge = events_ ? xmlRefreshMs_ : kLiveCacheMs;
  if (!fresh && !reread && cached_ &&
      now - cachedAt_ < std::chrono::milliseconds(maxAge))
    return *cached_;
  cached_.reset();
  xmlReads_++;
  char* raw = virDomainGetXMLDesc(dom_, 0);
  if (!raw)
    return failure("reading its XML");
  Live l;
  l.xml = raw;
  std::free(raw);
  auto parsed = parseDomainXml(l.xml);
  if (!parsed)
    return makeError("domain '" + domain_ + "': " + parsed.message());
  l.parsed = std::move(*parsed);
  if (!l.parsed.id)
    return domainGone("is not running");
  if (domainId_ && *l.parsed.id != *domainId_)
    return domainGone("runs a new QEMU (id " + std::to_string(*domainId_) +
                      " -> " + std::to_string(*l.parsed.id) + ")");
  cached_ = l;
  cachedAt_ = now;
  cachedSeq_ = seq;  // events after this are newer than (or as new as) it
  return l;
}

Maybe<VmDevices> LibvirtVmControl::findDevices(const VmDevices&) {
  auto l = live();
  if (!l)
    return l.error();
  const DomainXml& x = l->parsed;
  auto one = [&](unsigned node,
                 bool required) -> Maybe<std::optional<std::string>> {
    auto on = x.devicesOnNode(node);
    if (on.empty() && required)
      return makeError("domain '" + domain_ +
                       "' has no <memory model='virtio-mem'> on guest node " +
                       std::to_string(node) + " (the fast device)");
    if (on.size() > 1) {
      std::string ids;
      for (const auto* d : on)
        ids += (ids.empty() ? "" : ", ") + d->id;
      return makeError(
          "domain '" + domain_ + "' has " + std::to_string(on.size()) +
          " virtio-mem devices on guest node " + std::to_string(node) + " (" +
          ids + "); htier manages one per node");
    }
    if (on.empty())
      return std::optional<std::string>();
    return std::optional<std::string>(on[0]->id);
  };
  auto fast = one(0, true);
  if (!fast)
    return fast.error();
  auto slow = one(1, false);
  if (!slow)
    return slow.error();
  if (!x.channelPath)
    return makeError(
        "domain '" + domain_ + "': " +
        (x.channelProblem.empty()
             ? std::string("has no <channel type='unix'> with <target "
                           "type='virtio' name='") +
                   kHtierChannelName + "'/>: no guest link"
             : x.channelProblem));
  return VmDevices{**fast, *slow, x.channelPath};
}

Maybe<VirtioMemXml> LibvirtVmControl::device(const std::string& id) {
  auto l = live();
  if (!l)
    return l.error();
  const VirtioMemXml* d = l->parsed.deviceById(id);
  if (!d)
    return makeError("domain '" + domain_ + "' has no virtio-mem device '" +
                     id + "'");
  VirtioMemXml out = *d;
  if (events_) {
    // A size event since the XML was read is the newer plugged size.
    std::lock_guard<std::mutex> lock(events_->mu);
    auto it = events_->sizes.find(id);
    if (it != events_->sizes.end() && it->second.seq > cachedSeq_) {
      out.info.sizeBytes = it->second.bytes;
      out.hasCurrent = true;
    }
  }
  return out;
}

Maybe<DeviceInfo> LibvirtVmControl::describe(const std::string& id) {
  auto d = device(id);
  if (!d)
    return d.error();
  if (!d->hasCurrent)
    return makeError("domain '" + domain_ + "' " + id +
                     ": no <current> (plugged size) in its live XML");
  return d->info;
}

Maybe<uint64_t> LibvirtVmControl::size(const std::string& id) {
  auto info = describe(id);
  if (!info)
    return info.error();
  return info->sizeBytes;
}

Maybe<uint64_t> LibvirtVmControl::requestedSize(const std::string& id) {
  auto d = device(id);
  if (!d)
    return d.error();
  return d->info.requestedBytes;
}

Status LibvirtVmControl::setRequestedSize(const std::string& id,
                                          uint64_t bytes) {
  auto l = live(true);
  if (!l)
    return l.error();
  cached_.reset();  // whatever happens, the sizes change
  auto xml = memoryUpdateXml(l->xml, id, bytes);
  if (!xml)
    return makeError("domain '" + domain_ + "': " + xml.message());
  if (virDomainUpdateDeviceFlags(dom_, xml->c_str(), VIR_DOMAIN_AFFECT_LIVE) <
      0)
    return failure("resizing " + id + " to " + std::to_string(bytes) +
                   " bytes");
  return okStatus();
}

}  // namespace htier

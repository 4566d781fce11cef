// SPDX-License-Identifier: GPL-2.0
//
// pmu-check's probe: perf_event_open from userspace, on this thread.
// 1. a CPU-cycles counter (is there a PMU?), 2. htier's precise load event
// (libpfm4's encoding for this CPU, else Intel's raw 0x81d0) at
// precise_ip 2, then 1, 3. a quarter second of loads over 32 MiB, then the
// ring buffer's samples are counted: how many carry a data address.
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "pmu/events.h"
#include "pmu/pmu_check.h"

namespace htier::pmu {

namespace {

constexpr const char* kCpuPmu = "/sys/bus/event_source/devices/cpu";
constexpr size_t kRingPages = 64;  // data pages, a power of two
constexpr size_t kTouchBytes = 32u << 20;
constexpr double kRunSeconds = 0.25;

std::string readLine(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

int perfOpen(perf_event_attr& attr) {
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  return fd < 0 ? -errno : fd;
}

std::string cpuVendor() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("vendor_id", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", p + 1));
    }
  return "";
}

// Loads over a buffer for kRunSeconds; returns a value so it is not elided.
uint64_t touchMemory(std::vector<uint64_t>& buf) {
  uint64_t sum = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(kRunSeconds);
  while (std::chrono::steady_clock::now() < end)
    for (size_t i = 0; i < buf.size(); i += 8) sum += *static_cast<volatile uint64_t*>(&buf[i]);
  return sum;
}

// Counts PERF_RECORD_SAMPLE (sample_type IP|ADDR) and PERF_RECORD_LOST.
void countSamples(void* ring, size_t pageSize, ProbeEvidence& e) {
  auto* meta = static_cast<perf_event_mmap_page*>(ring);
  const char* data = static_cast<const char*>(ring) + pageSize;
  const uint64_t size = kRingPages * pageSize;
  uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  while (tail + sizeof(perf_event_header) <= head) {
    perf_event_header h;
    for (size_t i = 0; i < sizeof(h); ++i) reinterpret_cast<char*>(&h)[i] = data[(tail + i) % size];
    if (h.size == 0) break;
    if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 16) {
      uint64_t addr = 0;
      for (size_t i = 0; i < 8; ++i) reinterpret_cast<char*>(&addr)[i] = data[(tail + sizeof(h) + 8 + i) % size];
      ++e.samples;
      if (addr) ++e.samplesWithAddr;
    } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
      uint64_t lost = 0;
      for (size_t i = 0; i < 8; ++i) reinterpret_cast<char*>(&lost)[i] = data[(tail + sizeof(h) + 8 + i) % size];
      e.lost += lost;
    }
    tail += h.size;
  }
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

// htier's load event for this CPU: libpfm4's encoding, else Intel raw.
bool loadEncoding(const std::string& vendor, perf_event_attr& attr, std::string& desc) {
  auto plan = encodeHtierEvents();
  if (plan && !plan->events.empty()) {
    const EncodedEvent& ev = plan->events.front();
    attr.type = ev.type;
    attr.config = ev.config;
    attr.config1 = ev.config1;
    desc = ev.name;
    return true;
  }
  if (vendor == "GenuineIntel") {
    attr.type = PERF_TYPE_RAW;
    attr.config = 0x81d0;
    desc = "raw 0x81d0 (MEM_INST_RETIRED.ALL_LOADS, module default)";
    return true;
  }
  desc = vendor.empty() ? "none (unknown CPU vendor)" : "none (" + vendor + ": PEBS is Intel's; AMD IBS is out of htier's scope)";
  return false;
}

}  // namespace

ProbeEvidence probePmu() {
  ProbeEvidence e;
  e.cpuPmuInSysfs = access(kCpuPmu, F_OK) == 0;
  e.pmuName = readLine(std::string(kCpuPmu) + "/caps/pmu_name");
  std::string mp = readLine(std::string(kCpuPmu) + "/caps/max_precise");
  if (!mp.empty()) e.maxPrecise = std::atoi(mp.c_str());
  std::string par = readLine("/proc/sys/kernel/perf_event_paranoid");
  if (!par.empty()) e.paranoid = std::atoi(par.c_str());
  e.vendor = cpuVendor();

  perf_event_attr cycles;
  std::memset(&cycles, 0, sizeof(cycles));
  cycles.size = sizeof(cycles);
  cycles.type = PERF_TYPE_HARDWARE;
  cycles.config = PERF_COUNT_HW_CPU_CYCLES;
  cycles.disabled = 1;
  cycles.exclude_kernel = 1;
  cycles.exclude_hv = 1;
  int fd = perfOpen(cycles);
  if (fd < 0) {
    e.cyclesErrno = -fd;
    return e;
  }
  close(fd);
  e.cyclesErrno = 0;

  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  if (!loadEncoding(e.vendor, attr, e.loadEvent)) {
    e.loadErrno = EOPNOTSUPP;
    return e;
  }
  attr.sample_period = 1009;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_ADDR;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.wakeup_events = 1;
  for (unsigned precise : {2u, 1u}) {
    attr.precise_ip = precise;
    fd = perfOpen(attr);
    if (fd >= 0) {
      e.loadPrecise = precise;
      break;
    }
    if (fd != -EOPNOTSUPP && fd != -EINVAL) break;
  }
  if (fd < 0) {
    e.loadErrno = -fd;
    return e;
  }
  e.loadErrno = 0;
  e.loadEvent += " precise=" + std::to_string(e.loadPrecise);

  size_t pageSize = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t mapBytes = (kRingPages + 1) * pageSize;
  void* ring = mmap(nullptr, mapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ring == MAP_FAILED) {
    e.loadErrno = errno;
    close(fd);
    return e;
  }
  std::vector<uint64_t> buf(kTouchBytes / sizeof(uint64_t), 1);
  auto t0 = std::chrono::steady_clock::now();
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  uint64_t sum = touchMemory(buf);
  ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  e.runSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  (void)sum;
  countSamples(ring, pageSize, e);
  munmap(ring, mapBytes);
  close(fd);
  return e;
}

}  // namespace htier::pmu

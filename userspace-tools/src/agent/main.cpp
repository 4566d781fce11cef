// SPDX-License-Identifier: GPL-2.0
//
// htier-agent: the guest side of the htier guest <-> host link.  Option
// parsing and signals only; the work is in agent/agent.cpp.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "agent/agent.h"
#include "agent/pmu_setup.h"
#include "common/log.h"

namespace {

std::atomic<bool> gStop{false};

void onSignal(int) { gStop = true; }

void usage(FILE* to) {
  std::fprintf(to,
               "usage: htier-agent [options]\n\n"
               "Reports the htier module's state to the host over the virtio-serial port\n"
               "org.htier.0 and applies the fast-memory quotas the host sends back.\n\n"
               "options:\n"
               "  --port PATH         channel to use instead of discovering org.htier.0\n"
               "                      (a character device, or a unix socket to connect to)\n"
               "  --sysfs-root DIR    module directory (default %s)\n"
               "  --interval-ms N     periodic report interval (default 2000)\n"
               "  --once              send one report and exit (exit 1 if it cannot)\n"
               "  --textfile PATH     every interval, write the module's stats and quota as a\n"
               "                      node_exporter textfile (htier_* metrics), atomically;\n"
               "                      e.g. /var/lib/prometheus/node-exporter/htier.prom\n"
               "  --no-pmu-events     do not hand this CPU's PEBS event encodings (libpfm4)\n"
               "                      to the module at start\n"
               "  --disable-numa-balancing\n"
               "                      set kernel.numa_balancing=0 at start (automatic NUMA\n"
               "                      balancing moves pages by itself and competes with htier)\n"
               "  -v, --verbose       log every report and more\n"
               "  -h, --help          this help\n\n"
               "examples:\n"
               "  htier-agent &                      # in the guest's init script\n"
               "  htier-agent --once -v              # one report, to check the link\n"
               "  htier-agent --port /tmp/htier.sock --sysfs-root /tmp/fake-htier\n",
               htier::kDefaultSysfsRoot);
}

// Off only when asked: the guest's owner may rely on NUMA balancing for
// processes htier does not manage.
void disableNumaBalancing() {
  const char* path = "/proc/sys/kernel/numa_balancing";
  std::string before;
  std::ifstream(path) >> before;
  std::ofstream f(path);
  if (!(f << "0\n" << std::flush)) {
    HLOG_WARN("cannot set kernel.numa_balancing=0 (%s), it stays %s", path,
              before.empty() ? "unknown" : before.c_str());
    return;
  }
  HLOG_INFO("kernel.numa_balancing=0 (was %s)", before.empty() ? "unknown" : before.c_str());
}

bool parseMs(const char* text, std::chrono::milliseconds& out) {
  auto v = htier::parseU64(text);
  if (!v || *v == 0 || *v > 3600000) return false;
  out = std::chrono::milliseconds(*v);
  return true;
}

int realMain(int argc, char** argv) {
  htier::log::setProgram("htier-agent");
  htier::agent::AgentOptions opt;
  htier::agent::PortOptions port;
  bool applyEvents = true;
  bool numaBalancingOff = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "-v" || a == "--verbose") {
      htier::log::setVerbose(true);
    } else if (a == "--no-pmu-events") {
      applyEvents = false;
    } else if (a == "--disable-numa-balancing") {
      numaBalancingOff = true;
    } else if (a == "--once") {
      opt.once = true;
    } else if (a == "--port") {
      const char* v = next();
      if (!v) return usage(stderr), 2;
      port.portPath = v;
    } else if (a == "--sysfs-root") {
      const char* v = next();
      if (!v) return usage(stderr), 2;
      opt.sysfsRoot = v;
    } else if (a == "--textfile") {
      const char* v = next();
      if (!v || !*v) return usage(stderr), 2;
      opt.textfilePath = v;
    } else if (a == "--interval-ms") {
      const char* v = next();
      if (!v || !parseMs(v, opt.interval)) {
        std::fprintf(stderr, "htier-agent: --interval-ms needs a number of milliseconds (1..3600000)\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "htier-agent: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = onSignal;  // no SA_RESTART: poll returns EINTR at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a vanished socket peer is an EPIPE, not a death

  HLOG_INFO("starting: sysfs %s, port %s, interval %lld ms%s%s%s", opt.sysfsRoot.c_str(),
            port.portPath ? port.portPath->c_str() : "org.htier.0 (discovered)",
            static_cast<long long>(opt.interval.count()), opt.once ? ", once" : "",
            opt.textfilePath.empty() ? "" : ", textfile ", opt.textfilePath.c_str());
  if (numaBalancingOff) disableNumaBalancing();
  if (applyEvents) {
    auto r = htier::agent::applyPebsEvents(htier::Sysfs(opt.sysfsRoot), htier::agent::libpfmEncoder());
    HLOG_INFO("%s", r.message.c_str());
  }
  htier::agent::Agent agent(opt, htier::agent::virtioPortOpener(port));
  return agent.run(gStop);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return realMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "htier-agent: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "htier-agent: internal error\n");
  }
  return 1;
}

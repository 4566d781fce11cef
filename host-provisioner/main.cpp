// SPDX-License-Identifier: GPL-2.0
//
// htier-provisiond: divides the host's fast memory among VMs (see
// README.md).
//
//   htier-provisiond --config FILE [--status-socket PATH] [-v]
//   htier-provisiond --check-config --config FILE
//   htier-provisiond --list-policies
//   htier-provisiond status [--json] [--status-socket PATH | --config FILE]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config/ConfigParser.h"
#include "engine/Daemon.h"
#include "policy/PolicyRegistry.h"
#include "status/StatusServer.h"
#include "util/Log.h"

using namespace htier;

namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: htier-provisiond --config FILE [--status-socket PATH] [-v]\n"
      "       htier-provisiond --check-config --config FILE\n"
      "       htier-provisiond --list-policies\n"
      "       htier-provisiond status [--json] [--status-socket PATH | "
      "--config FILE]\n"
      "\n"
      "Divides the host's fast memory among VMs by QoS and enforces it with\n"
      "virtio-mem over QMP.\n"
      "\n"
      "examples:\n"
      "  htier-provisiond --check-config --config /etc/htier/provisiond.json\n"
      "  htier-provisiond --config /etc/htier/provisiond.json\n"
      "  htier-provisiond status --json\n",
      out);
}

struct Args {
  bool status = false, json = false, check = false, list = false,
       verbose = false;
  std::string config, statusSocket;
};

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; i++) {
    std::string s = argv[i];
    auto value = [&](std::string& dst) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "htier-provisiond: %s needs a value\n", s.c_str());
        return false;
      }
      dst = argv[++i];
      return true;
    };
    if (s == "status" && i == 1)
      a.status = true;
    else if (s == "--json")
      a.json = true;
    else if (s == "--check-config")
      a.check = true;
    else if (s == "--list-policies")
      a.list = true;
    else if (s == "-v" || s == "--verbose")
      a.verbose = true;
    else if (s == "--config" || s == "-c") {
      if (!value(a.config))
        return false;
    } else if (s == "--status-socket") {
      if (!value(a.statusSocket))
        return false;
    } else if (s == "-h" || s == "--help") {
      usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "htier-provisiond: unknown argument '%s'\n",
                   s.c_str());
      return false;
    }
  }
  return true;
}

ConfigParseResult loadConfig(const std::string& path) {
  auto r = parseConfigFile(path, policyNames());
  for (const auto& w : r.warnings)
    std::fprintf(stderr, "%s: warning: %s\n", path.c_str(), w.c_str());
  for (const auto& e : r.errors)
    std::fprintf(stderr, "%s: error: %s\n", path.c_str(), e.c_str());
  return r;
}

int runStatus(const Args& a) {
  std::string path = a.statusSocket;
  if (path.empty() && !a.config.empty()) {
    auto r = loadConfig(a.config);
    if (!r.ok())
      return 2;
    path = r.config.statusSocket;
  }
  if (path.empty())
    path = Config{}.statusSocket;
  auto doc = fetchStatus(path, 3000);
  if (!doc) {
    std::fprintf(stderr, "htier-provisiond status: %s\n",
                 doc.message().c_str());
    return 1;
  }
  auto st = statusFromJson(*doc);
  if (!st) {
    std::fprintf(stderr, "htier-provisiond status: %s\n", st.message().c_str());
    return 1;
  }
  std::fputs(a.json ? statusToJson(*st).c_str() : statusToTable(*st).c_str(),
             stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parseArgs(argc, argv, a)) {
    usage(stderr);
    return 2;
  }
  if (a.verbose)
    setLogLevel(LogLevel::kDebug);
  if (a.list) {
    for (const auto& p : policyRegistry())
      std::printf("%-14s %s\n", p.name.c_str(), p.description.c_str());
    return 0;
  }
  if (a.status)
    return runStatus(a);
  if (a.config.empty()) {
    usage(stderr);
    return 2;
  }
  auto r = loadConfig(a.config);
  if (a.check) {
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %zu error(s); the config is not usable\n",
                   a.config.c_str(), r.errors.size());
      return 1;
    }
    std::printf("%s: OK (%zu VM(s), policy %s)\n", a.config.c_str(),
                r.config.vms.size(), r.config.policy.c_str());
    return 0;
  }
  if (!r.ok())
    return 1;
  if (!a.statusSocket.empty())
    r.config.statusSocket = a.statusSocket;
  return runDaemon(r.config);
}

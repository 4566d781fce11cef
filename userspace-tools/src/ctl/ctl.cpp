// SPDX-License-Identifier: GPL-2.0
//
// htierctl's global option parsing and subcommand dispatch.
#include "ctl/ctl.h"

#include <ostream>

namespace htier::ctl {

namespace {

void printHelp(std::ostream& out) {
  out << "usage: htierctl [--sysfs-root DIR] COMMAND [ARGS]\n\n"
         "Show and set the state of the htier tiered-memory module.\n\n"
         "commands:\n";
  for (const Command& c : commands()) {
    std::string head = std::string(c.name) + (c.usage.empty() ? "" : " ") + std::string(c.usage);
    out << "  " << head << std::string(head.size() < 22 ? 22 - head.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\noptions:\n"
         "  --sysfs-root DIR      module directory (default "
      << kDefaultSysfsRoot
      << ")\n"
         "  -h, --help            this help\n\n"
         "examples:\n"
         "  htierctl status\n"
         "  htierctl status --json\n"
         "  htierctl set quota_bytes 268435456\n"
         "  htierctl set sampler abit\n"
         "  htierctl pmu-check\n"
         "  htierctl events --apply\n";
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"status", "[--json]", "show settings, residency, migration and sampling stats", true, cmdStatus},
      {"set", "KEY VALUE", "write VALUE to a writable module file (e.g. quota_bytes)", true, cmdSet},
      {"events", "[--apply] [--json] [--ldlat N]", "this CPU's precise memory events (libpfm4); --apply hands them to the module", false, cmdEvents},
      {"pmu-check", "[--json]", "can this machine sample memory with data addresses (PEBS)? (no module needed)", false, cmdPmuCheck},
  };
  return table;
}

int runCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string root = kDefaultSysfsRoot;
  std::vector<std::string> rest;
  // Global options may come before or after the command.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      printHelp(out);
      return kExitOk;
    }
    if (a == "--sysfs-root") {
      if (i + 1 >= args.size()) {
        err << "htierctl: --sysfs-root needs a directory\n";
        return kExitUsage;
      }
      root = args[++i];
    } else if (a.rfind("--sysfs-root=", 0) == 0) {
      root = a.substr(std::string("--sysfs-root=").size());
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) {
    printHelp(err);
    return kExitUsage;
  }
  const std::string name = rest.front();
  rest.erase(rest.begin());
  for (const Command& c : commands()) {
    if (c.name != name) continue;
    CtlContext ctx{Sysfs(root), out, err};
    if (c.needsModule && !ctx.sysfs.present()) {
      err << "htierctl: htier module not loaded (no " << root << ")\n";
      return kExitError;
    }
    return c.run(ctx, rest);
  }
  err << "htierctl: unknown command '" << name << "' (see htierctl --help)\n";
  return kExitUsage;
}

}  // namespace htier::ctl

// SPDX-License-Identifier: GPL-2.0
//
// htierctl: the guest's command line for the htier module.  Subcommands
// live in a table (name, usage, handler) so that new ones (events,
// pmu-check, ...) are one entry and one file each.  Everything writes to
// the streams in CtlContext so tests can run the CLI in-process.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/sysfs.h"

namespace htier::ctl {

enum ExitCode : int { kExitOk = 0, kExitError = 1, kExitUsage = 2 };

struct CtlContext {
  Sysfs sysfs;
  std::ostream& out;
  std::ostream& err;
};

using CommandHandler = int (*)(CtlContext& ctx, const std::vector<std::string>& args);

struct Command {
  std::string_view name;
  std::string_view usage;    // arguments after the name
  std::string_view summary;  // one line for --help
  bool needsModule;          // fail early with the "not loaded" message
  CommandHandler run;
};

// The subcommand table, in --help order.
const std::vector<Command>& commands();

// Entry point minus argv[0]; returns the process exit code.
int runCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Handlers (one file each).
int cmdStatus(CtlContext& ctx, const std::vector<std::string>& args);
int cmdSet(CtlContext& ctx, const std::vector<std::string>& args);
int cmdEvents(CtlContext& ctx, const std::vector<std::string>& args);
int cmdPmuCheck(CtlContext& ctx, const std::vector<std::string>& args);

}  // namespace htier::ctl

// SPDX-License-Identifier: GPL-2.0
//
// htierctl set KEY VALUE: one write to one module file; the kernel decides
// whether the value is valid, and its errno is shown as is.
#include <ostream>

#include "ctl/ctl.h"

namespace htier::ctl {

int cmdSet(CtlContext& ctx, const std::vector<std::string>& args) {
  if (args.size() != 2) {
    ctx.err << "usage: htierctl set KEY VALUE\n";
    return kExitUsage;
  }
  const std::string& key = args[0];
  const std::string& value = args[1];
  Status st = ctx.sysfs.write(key, value);
  if (!st) {
    ctx.err << "htierctl: " << st.error().message << "\n";
    return kExitError;
  }
  // Show what the module made of it (e.g. a normalised node list).
  auto now = ctx.sysfs.read(key);
  ctx.out << key << " = " << (now ? *now : value) << "\n";
  return kExitOk;
}

}  // namespace htier::ctl

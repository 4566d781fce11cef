// SPDX-License-Identifier: GPL-2.0
//
// htierctl entry point; see ctl/ctl.h.
#include <exception>
#include <iostream>

#include "ctl/ctl.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return htier::ctl::runCtl(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "htierctl: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "htierctl: internal error\n";
  }
  return 1;
}

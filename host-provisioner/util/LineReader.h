// SPDX-License-Identifier: GPL-2.0
//
// Splits a byte stream into '\n'-terminated lines with a hard cap per line.
// A line longer than the cap is dropped whole (up to its newline) and
// counted, so a peer that never sends '\n' costs at most maxLine bytes of
// memory.  A trailing '\r' is stripped (QMP sends "\r\n").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace htier {

class LineReader {
 public:
  explicit LineReader(size_t maxLine) : maxLine_(maxLine) {}

  void feed(std::string_view bytes);
  // Next complete line, without its terminator.
  std::optional<std::string> next();
  void clear();

  uint64_t oversizedLines() const { return oversized_; }

 private:
  size_t maxLine_;
  std::string buf_;
  bool discarding_ = false;
  uint64_t oversized_ = 0;
};

}  // namespace htier

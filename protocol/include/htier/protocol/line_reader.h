// SPDX-License-Identifier: GPL-2.0
//
// Splits a byte stream into '\n'-terminated lines with a hard cap per line.
// A line longer than the cap is dropped whole (up to its newline) and
// counted, so a peer that never sends '\n' costs at most maxLine bytes of
// memory.  A trailing '\r' is stripped (QMP sends "\r\n").
//
// Linear in the bytes fed: lines are taken from an offset into the buffer,
// which is compacted only once the consumed part is at least half of it
// (erasing from the front per line made a flood of short lines quadratic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace htier::protocol {

class LineReader {
 public:
  explicit LineReader(size_t maxLine) : maxLine_(maxLine) {}

  void feed(std::string_view bytes);
  // Next complete line, without its terminator.
  std::optional<std::string> next();
  void clear();

  uint64_t oversizedLines() const { return oversized_; }
  // Bytes fed and not yet returned (complete lines and the open one).
  size_t buffered() const { return buf_.size() - start_; }
  bool hasLine() const { return start_ < buf_.size() - open_; }

 private:
  void compact();

  size_t maxLine_;
  std::string buf_;
  size_t start_ = 0;  // buf_[0, start_) was returned already
  size_t open_ = 0;   // the last open_ bytes of buf_: a line without '\n' yet
  bool discarding_ = false;
  uint64_t oversized_ = 0;
};

}  // namespace htier::protocol

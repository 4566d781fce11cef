// SPDX-License-Identifier: GPL-2.0
#include "htier/protocol/line_reader.h"

namespace htier::protocol {

void LineReader::compact() {
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  } else if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);  // amortised: at most once per buffer's worth
    start_ = 0;
  }
}

void LineReader::feed(std::string_view bytes) {
  compact();
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (discarding_) {
      if (nl == std::string_view::npos)
        return;
      discarding_ = false;
      bytes.remove_prefix(nl + 1);
      continue;
    }
    size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (open_ + take > maxLine_) {
      buf_.resize(buf_.size() - open_);
      open_ = 0;
      oversized_++;
      if (nl == std::string_view::npos) {
        discarding_ = true;
        return;
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      buf_.append(bytes);
      open_ += bytes.size();
      return;
    }
    buf_.append(bytes.substr(0, nl + 1));
    open_ = 0;
    bytes.remove_prefix(nl + 1);
  }
}

std::optional<std::string> LineReader::next() {
  if (!hasLine()) {
    compact();
    return std::nullopt;
  }
  size_t nl = buf_.find('\n', start_);  // found: hasLine()
  std::string line = buf_.substr(start_, nl - start_);
  start_ = nl + 1;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

void LineReader::clear() {
  buf_.clear();
  start_ = 0;
  open_ = 0;
  discarding_ = false;
}

}  // namespace htier::protocol

// SPDX-License-Identifier: GPL-2.0
#include "util/LineReader.h"

namespace htier {

void LineReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (discarding_) {
      if (nl == std::string_view::npos)
        return;
      discarding_ = false;
      bytes.remove_prefix(nl + 1);
      continue;
    }
    // Bytes of the line still open in buf_ (after the last '\n' in it).
    size_t lastNl = buf_.rfind('\n');
    size_t open =
        lastNl == std::string::npos ? buf_.size() : buf_.size() - lastNl - 1;
    size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (open + take > maxLine_) {
      buf_.resize(buf_.size() - open);
      oversized_++;
      if (nl == std::string_view::npos) {
        discarding_ = true;
        return;
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    size_t n = nl == std::string_view::npos ? bytes.size() : nl + 1;
    buf_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
}

std::optional<std::string> LineReader::next() {
  size_t nl = buf_.find('\n');
  if (nl == std::string::npos)
    return std::nullopt;
  std::string line = buf_.substr(0, nl);
  buf_.erase(0, nl + 1);
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

void LineReader::clear() {
  buf_.clear();
  discarding_ = false;
}

}  // namespace htier

// SPDX-License-Identifier: GPL-2.0
#include "htier/protocol/excerpt.h"

#include <cstdio>

namespace htier::protocol {

namespace {
constexpr size_t kMaxStringShown = 64;

std::string counted(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}
}  // namespace

std::string printableExcerpt(std::string_view text, size_t maxBytes) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < maxBytes; i++) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (text.size() > maxBytes)
    out += "...";
  return out;
}

std::string describeJson(const nlohmann::json& value) {
  using json = nlohmann::json;
  switch (value.type()) {
    case json::value_t::array:
      return "an array (" + counted(value.size(), "element", "elements") + ")";
    case json::value_t::object:
      return "an object (" + counted(value.size(), "key", "keys") + ")";
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      return "string \"" + printableExcerpt(s, kMaxStringShown) + "\"";
    }
    case json::value_t::null:
      return "null";
    default:  // number or boolean: dump() does not recurse
      return std::string(value.type_name()) + " " + value.dump();
  }
}

}  // namespace htier::protocol

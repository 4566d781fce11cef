// SPDX-License-Identifier: GPL-2.0
//
// Short, safe excerpts of untrusted input (QMP peers, guests, config files)
// for error messages and logs.  Raw bytes may be any binary, so they are
// shown printable-ASCII only; a JSON value is shown by its type and size
// when it is a container, so a deeply nested value is never dumped
// (dump() recurses once per level) and a huge one never copied.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace htier::protocol {

// At most maxBytes of text, each byte outside printable ASCII as "\xNN",
// "..." appended when cut.
std::string printableExcerpt(std::string_view text, size_t maxBytes = 200);

// "number 1.5", "string \"4G\"", "boolean true", "null",
// "an array (3 elements)", "an object (1 key)".
std::string describeJson(const nlohmann::json& value);

}  // namespace htier::protocol

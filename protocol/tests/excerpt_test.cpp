// SPDX-License-Identifier: GPL-2.0
#include "htier/protocol/excerpt.h"

#include <gtest/gtest.h>

using namespace htier::protocol;
using nlohmann::json;

TEST(Excerpt, PrintableAsciiOnlyAndCut) {
  EXPECT_EQ(printableExcerpt("ok \x01\xff", 10), "ok \\x01\\xff");
  EXPECT_EQ(printableExcerpt("abcdef", 3), "abc...");
}

TEST(Excerpt, ContainersByTypeAndSize) {
  EXPECT_EQ(describeJson(json::parse("[1,2,3]")), "an array (3 elements)");
  EXPECT_EQ(describeJson(json::parse("{\"a\":1}")), "an object (1 key)");
  EXPECT_EQ(describeJson(json::parse("\"4G\"")), "string \"4G\"");
  EXPECT_EQ(describeJson(json::parse("null")), "null");
  EXPECT_EQ(describeJson(json::parse("true")), "boolean true");
  EXPECT_EQ(describeJson(json::parse("-1")), "number -1");
  // A deep value is not walked: dump() would recurse once per level.
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  EXPECT_EQ(describeJson(json::parse(deep)), "an array (1 element)");
}

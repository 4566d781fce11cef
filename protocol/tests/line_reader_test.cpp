// SPDX-License-Identifier: GPL-2.0
#include "htier/protocol/line_reader.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace htier::protocol;

TEST(LineReader, SplitsLinesAcrossFeedsAndStripsCr) {
  LineReader r(64);
  r.feed("{\"a\":1}\r\n{\"b\"");
  EXPECT_EQ(r.next(), "{\"a\":1}");
  EXPECT_FALSE(r.next());
  r.feed(":2}\n\n");
  EXPECT_EQ(r.next(), "{\"b\":2}");
  EXPECT_EQ(r.next(), "");
  EXPECT_FALSE(r.next());
}

TEST(LineReader, DropsOversizedLineWholeAndResyncs) {
  LineReader r(8);
  r.feed("0123");
  r.feed("456789abc");  // over the cap, no newline yet
  r.feed(std::string(100000, 'x'));
  EXPECT_FALSE(r.next());
  r.feed("tail\nok\n");
  EXPECT_EQ(r.next(), "ok");
  EXPECT_EQ(r.oversizedLines(), 1u);
}

TEST(LineReader, LineExactlyAtCapIsKept) {
  LineReader r(4);
  r.feed("abcd\nabcde\nz\n");
  EXPECT_EQ(r.next(), "abcd");
  EXPECT_EQ(r.next(), "z");
  EXPECT_EQ(r.oversizedLines(), 1u);
}

// Issue 10 item 4: taking a line erased it from the front of the buffer,
// so a burst of short lines cost the square of its size.
TEST(LineReader, LinearInTheBytesFed) {
  LineReader r(64);
  std::string burst;
  for (int i = 0; i < 100000; i++)
    burst += "abc\n";
  auto t0 = std::chrono::steady_clock::now();
  r.feed(burst);
  size_t lines = 0;
  while (r.next())
    lines++;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  EXPECT_EQ(lines, 100000u);
  EXPECT_LT(ms, 300) << "400 KB of short lines took " << ms << " ms";
}

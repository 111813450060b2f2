// The replacement rule of base/utf8.h: WHATWG's UTF-8 decoder, one U+FFFD per
// maximal ill-formed subsequence, the same text V8 decodes from the bytes.
#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "base/json_writer.h"

namespace llmrelay {
namespace {

std::string Clean(std::string_view in) {
  std::string out;
  AppendValidUtf8(out, in);
  return out;
}

const std::string R(kReplacementCharacter);

TEST(Utf8, WellFormedTextIsCopiedAsItIs) {
  const std::string text = "plain ascii, wörld, — , 🎉, 中文, \x7f";
  EXPECT_EQ(Clean(text), text);
}

TEST(Utf8, EachMaximalIllFormedSubsequenceBecomesOneReplacementCharacter) {
  EXPECT_EQ(Clean("a\xff"
                  "b"),
            "a" + R + "b");                             // never a lead byte
  EXPECT_EQ(Clean("\x80\x80"), R + R);                  // lone continuation bytes
  EXPECT_EQ(Clean("\xC0\xAF"), R + R);                  // overlong lead C0
  EXPECT_EQ(Clean("\xE2\x82"), R);                      // truncated at the end
  EXPECT_EQ(Clean("\xE2\x82x"), R + "x");               // truncated before ASCII
  EXPECT_EQ(Clean("\xF0\x80\x80"), R + R + R);          // F0 needs 90..BF next
  EXPECT_EQ(Clean("\xED\xA0\x80"), R + R + R);          // a UTF-16 surrogate
  EXPECT_EQ(Clean("\xF4\x90\x80\x80"), R + R + R + R);  // above U+10FFFF
  EXPECT_EQ(Clean("\xF0\x9F\x8E"), R);                  // 🎉 cut short
  EXPECT_EQ(Clean("\xF0\x9F\x8E\xF0\x9F\x8E\x89"), R + "\xF0\x9F\x8E\x89");
}

TEST(Utf8, TheJsonWriterReplacesIllFormedBytesAndStillEscapes) {
  std::string out;
  AppendJsonString(out, "a\xff\"\n\xE2\x80\xA8\xE2\x82");
  EXPECT_EQ(out, "\"a" + R + "\\\"\\n\\u2028" + R + "\"");
}

TEST(Utf8, TheJsonWriterKeepsWellFormedMultiByteText) {
  std::string out;
  AppendJsonString(out, "wörld 🎉 中");
  EXPECT_EQ(out, "\"wörld 🎉 中\"");
}

}  // namespace
}  // namespace llmrelay

// AppendDouble: the portable shortest round-trip formatter that replaced
// std::to_chars(double) (missing from GCC 10, which builds the prebuilt
// binary). Its output must be what std::to_chars wrote before, and JSON.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "base/json_writer.h"

namespace llmrelay {
namespace {

std::string Format(double value) {
  std::string out;
  AppendDouble(out, value);
  return out;
}

TEST(AppendDouble, WritesTheShortestFormThatReadsBackAsTheSameDouble) {
  EXPECT_EQ(Format(0.0), "0");
  EXPECT_EQ(Format(-0.0), "-0");
  EXPECT_EQ(Format(0.1), "0.1");
  EXPECT_EQ(Format(0.7), "0.7");
  EXPECT_EQ(Format(1.5), "1.5");
  EXPECT_EQ(Format(-2.25), "-2.25");
  EXPECT_EQ(Format(100.0), "100");
  EXPECT_EQ(Format(123456.789), "123456.789");
  EXPECT_EQ(Format(1e21), "1e+21");
  EXPECT_EQ(Format(1e100), "1e+100");
  EXPECT_EQ(Format(1.5e-7), "1.5e-07");
  EXPECT_EQ(Format(0.001), "0.001");
  EXPECT_EQ(Format(0.0001), "1e-04");  // shorter than 0.0001
  EXPECT_EQ(Format(1e-5), "1e-05");
  EXPECT_EQ(Format(-0.00001234), "-1.234e-05");
  EXPECT_EQ(Format(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(Format(2.0 / 3.0), "0.6666666666666666");
  EXPECT_EQ(Format(123456789012345680000.0), "123456789012345683968");  // exact, as to_chars
  EXPECT_EQ(Format(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(Format(876208756288344960.0), "876208756288344960");
  EXPECT_EQ(Format(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(Format(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
  EXPECT_EQ(Format(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(Format(-0.5), "-0.5");
}

TEST(AppendDouble, ReadsBackExactlyAndParsesAsJson) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    const std::string text = Format(value);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str(), text.size());
    ASSERT_FALSE(doc.HasParseError()) << text;
    ASSERT_TRUE(doc.IsNumber()) << text;
    ASSERT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
  }
}

#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
// Where the standard library has it (GCC 11+), the output is byte for byte
// std::to_chars's: random bit patterns, and the short decimals providers send.
TEST(AppendDouble, MatchesStdToChars) {
  auto expect_same = [](double value) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, value);
    ASSERT_EQ(Format(value), std::string(buf, res.ptr));
  };
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50000; ++i) {
    uint64_t bits = rng();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (std::isfinite(value)) expect_same(value);
  }
  std::uniform_int_distribution<int64_t> mantissa(-99999999, 99999999);
  std::uniform_int_distribution<int> scale(-30, 30);
  for (int i = 0; i < 50000; ++i) {
    expect_same(static_cast<double>(mantissa(rng)) * std::pow(10.0, scale(rng)));
  }
}
#endif

}  // namespace
}  // namespace llmrelay

#include "base/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>

#include "base/utf8.h"

namespace llmrelay {

namespace {

// 0 = copy as is, otherwise the character after the backslash ('u' = \u00XX).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}

constexpr std::array<char, 256> kEscape = MakeEscapeTable();
constexpr char kHex[] = "0123456789abcdef";

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  const char* run = s.data();
  const char* end = s.data() + s.size();
  for (const char* p = s.data(); p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    const char esc = kEscape[c];
    if (esc == 0) {
      if (c < 0x80) continue;
      size_t skip = 0;
      const size_t length = Utf8SequenceLength(std::string_view(p, static_cast<size_t>(end - p)), &skip);
      if (length == 0) {
        out.append(run, p);
        out.append(kReplacementCharacter);
        p += skip - 1;
        run = p + 1;
        continue;
      }
      // U+2028 / U+2029 are E2 80 A8 / E2 80 A9: legal JSON, but not legal
      // inside a JS string literal in older engines; escape them.
      if (c == 0xE2 && static_cast<unsigned char>(p[1]) == 0x80 &&
          (static_cast<unsigned char>(p[2]) == 0xA8 || static_cast<unsigned char>(p[2]) == 0xA9)) {
        out.append(run, p);
        out.append(static_cast<unsigned char>(p[2]) == 0xA8 ? "\\u2028" : "\\u2029");
        run = p + 3;
      }
      p += length - 1;
      continue;
    }
    out.append(run, p);
    out.push_back('\\');
    out.push_back(esc);
    if (esc == 'u') {
      out.append("00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
    run = p + 1;
  }
  out.append(run, end);
  out.push_back('"');
}

void AppendInt(std::string& out, int64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void AppendUint(std::string& out, uint64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void AppendDouble(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

}  // namespace llmrelay

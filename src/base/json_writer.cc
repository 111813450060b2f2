#include "base/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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
  // JSON has no NaN or infinities.
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  // The shortest precision whose correctly rounded digits (glibc's printf
  // rounds exactly) read back as `value`: at most 17 significant digits.
  char sci[40];
  int len = 0;
  for (int precision = 0; precision <= 16; ++precision) {
    len = std::snprintf(sci, sizeof sci, "%.*e", precision, value);
    if (std::strtod(sci, nullptr) == value) break;
  }
  if (len <= 0 || len >= static_cast<int>(sizeof sci)) return;  // not reached for finite values
  // sci is "[-]d[.ddd]e[+-]xx": split into sign, digits and exponent.
  std::string_view text(sci, static_cast<size_t>(len));
  const bool negative = text.front() == '-';
  if (negative) text.remove_prefix(1);
  const size_t e_pos = text.find('e');
  const int exponent = std::atoi(sci + (negative ? 1 : 0) + e_pos + 1);
  std::string digits;
  for (char c : text.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int n = static_cast<int>(digits.size());

  // Exponent form, as printf writes it: at least two exponent digits.
  std::string exp_form(1, digits[0]);
  if (n > 1) {
    exp_form.push_back('.');
    exp_form.append(digits, 1, std::string::npos);
  }
  const int magnitude = exponent < 0 ? -exponent : exponent;  // at most 324
  exp_form.push_back('e');
  exp_form.push_back(exponent < 0 ? '-' : '+');
  if (magnitude < 10) exp_form.push_back('0');
  AppendInt(exp_form, magnitude);

  // Plain form.
  std::string plain;
  if (digits == "0") {
    plain = "0";
  } else if (exponent >= 0) {
    if (n <= exponent + 1) {
      // An integer wider than its shortest digits: std::to_chars writes its
      // exact value ("876208756288344960", not "...345000"), as %.0f does.
      char fixed[400];
      const int fixed_len = std::snprintf(fixed, sizeof fixed, "%.0f", value < 0 ? -value : value);
      plain.assign(fixed, static_cast<size_t>(std::max(0, std::min(fixed_len, static_cast<int>(sizeof fixed) - 1))));
    } else {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      plain.assign(digits, 0, int_digits);
      plain.push_back('.');
      plain.append(digits, int_digits, std::string::npos);
    }
  } else {
    plain = "0.";
    plain.append(static_cast<size_t>(-exponent - 1), '0');
    plain.append(digits);
  }
  if (negative) out.push_back('-');
  out.append(plain.size() <= exp_form.size() ? plain : exp_form);
}

}  // namespace llmrelay

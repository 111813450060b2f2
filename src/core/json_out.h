// Minimal, allocation-free JSON output helpers for hot paths.
#ifndef LLMRELAY_CORE_JSON_OUT_H_
#define LLMRELAY_CORE_JSON_OUT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace llmrelay {

// Appends `s` as a quoted JSON string. Bytes >= 0x80 are copied as they are
// (the input is UTF-8 from a JSON parser); control characters, '"' and '\\'
// are escaped, and so are U+2028/U+2029 so the output is also valid JS.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);

// Appends a finite double as a JSON number in its shortest form that reads
// back as the same double, written as std::to_chars(double) writes it: plain
// or exponent notation, whichever is shorter, plain on a tie ("0.1", "100",
// "1e+100", "1.5e-07", "-0"). Portable: GCC before 11 has no
// std::to_chars(double), and the prebuilt binary is built with GCC 10.
void AppendDouble(std::string& out, double value);

}  // namespace llmrelay

#endif  // LLMRELAY_CORE_JSON_OUT_H_

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

}  // namespace llmrelay

#endif  // LLMRELAY_CORE_JSON_OUT_H_

// Minimal, allocation-free JSON output helpers for hot paths.
#ifndef LLMRELAY_BASE_JSON_WRITER_H_
#define LLMRELAY_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace llmrelay {

// Appends `s` as a quoted JSON string. Well-formed UTF-8 is copied as it is,
// ill-formed bytes become U+FFFD (base/utf8.h: the output is always valid
// UTF-8, and the same text V8 would decode); control characters, '"' and
// '\\' are escaped, and so are U+2028/U+2029 so the output is also valid JS.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_JSON_WRITER_H_

// Minimal, allocation-free JSON output helpers for hot paths.
#ifndef LLMRELAY_BASE_JSON_WRITER_H_
#define LLMRELAY_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/reader.h>

namespace llmrelay {

// Appends `s` as a quoted JSON string. Well-formed UTF-8 is copied as it is,
// ill-formed bytes become U+FFFD (base/utf8.h: the output is always valid
// UTF-8, and the same text V8 would decode); control characters, '"' and
// '\\' are escaped, and so are U+2028/U+2029 so the output is also valid JS.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);
void AppendUint(std::string& out, uint64_t value);

// Appends a double as a JSON number in its shortest form that reads back
// as the same double, written as std::to_chars(double) writes it: plain or
// exponent notation, whichever is shorter, plain on a tie ("0.1", "100",
// "1e+100", "1.5e-07", "-0"); null for NaN and infinities, which JSON cannot
// hold. Portable: GCC before 11 has no std::to_chars(double), and the
// prebuilt binary is built with GCC 10.
void AppendDouble(std::string& out, double value);

// The one compact-JSON writer: a RapidJSON handler that re-serializes what
// it is fed, from a SAX parse (a JSON text) or a DOM value's Accept().
// Strings go through AppendJsonString (valid UTF-8, no raw control
// characters, U+2028 escaped). Numbers parsed with
// kParseNumbersAsStringsFlag are copied as written, so 1e400 or 0.1 reach
// the client exactly as the model wrote them; numbers of a DOM value are
// formatted by AppendInt / AppendDouble.
class CompactJsonWriter : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, CompactJsonWriter> {
 public:
  explicit CompactJsonWriter(std::string& out) : out_(out) {}

  bool Null() { return Scalar("null"); }
  bool Bool(bool b) { return Scalar(b ? "true" : "false"); }
  bool Int(int i) {
    return Number([&] { AppendInt(out_, i); });
  }
  bool Uint(unsigned u) {
    return Number([&] { AppendUint(out_, u); });
  }
  bool Int64(int64_t i) {
    return Number([&] { AppendInt(out_, i); });
  }
  bool Uint64(uint64_t u) {
    return Number([&] { AppendUint(out_, u); });
  }
  bool Double(double d) {
    return Number([&] { AppendDouble(out_, d); });
  }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    return Scalar(std::string_view(str, length));
  }
  bool String(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    Separate();
    AppendJsonString(out_, std::string_view(str, length));
    need_comma_ = true;
    return true;
  }
  bool Key(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    Separate();
    AppendJsonString(out_, std::string_view(str, length));
    out_.push_back(':');
    need_comma_ = false;
    return true;
  }
  bool StartObject() { return Open('{'); }
  bool EndObject(rapidjson::SizeType /*count*/) { return Close('}'); }
  bool StartArray() { return Open('['); }
  bool EndArray(rapidjson::SizeType /*count*/) { return Close(']'); }

 private:
  void Separate() {
    if (need_comma_) out_.push_back(',');
  }
  bool Scalar(std::string_view text) {
    Separate();
    out_.append(text);
    need_comma_ = true;
    return true;
  }
  template <typename Fn>
  bool Number(Fn append) {
    Separate();
    append();
    need_comma_ = true;
    return true;
  }
  bool Open(char c) {
    Separate();
    out_.push_back(c);
    need_comma_ = false;
    return true;
  }
  bool Close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return true;
  }

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_JSON_WRITER_H_

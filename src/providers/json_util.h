// RapidJSON helpers shared by the provider adapters: a reusable per-adapter
// event parser, a compact re-serializer, typed field lookups and the base
// class that gives every JSON adapter the same error and end-marker rules.
#ifndef LLMRELAY_PROVIDERS_JSON_UTIL_H_
#define LLMRELAY_PROVIDERS_JSON_UTIL_H_

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/delta.h"
#include "providers/adapter.h"

namespace llmrelay {

using JsonValue = rapidjson::Value;

// Parses one event's JSON at a time into memory that is reused for the next
// event, so a steady stream allocates nothing per token:
//  - the text is copied into a std::string that keeps its capacity and is
//    parsed in situ (strings are decoded in place, never copied again);
//  - values and the parser's stack come from pools that start in fixed
//    buffers inside this object and are rewound, not freed, before each parse.
// Only an event larger than the fixed buffers makes the pools take heap
// chunks, which the next parse releases.
// The tree returned by ParseObject() is valid until the next call.
class EventJson {
 public:
  EventJson();
  EventJson(const EventJson&) = delete;
  EventJson& operator=(const EventJson&) = delete;

  // The root object, or nullptr when `text` is not one JSON object (a syntax
  // error, trailing bytes, an embedded NUL, or another top-level type).
  const JsonValue* ParseObject(std::string_view text);

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;

  static constexpr size_t kValuePoolBytes = 12 * 1024;
  static constexpr size_t kStackPoolBytes = 4 * 1024;
  static constexpr size_t kStackInitialBytes = 1024;
  // With RAPIDJSON_SSE2 the in-situ whitespace skipper loads aligned 16-byte
  // blocks, which may reach up to 15 bytes past the terminating NUL. Keeping
  // that much capacity behind the text keeps those loads inside our buffer.
  static constexpr size_t kSimdPadding = 16;

  alignas(16) char value_buffer_[kValuePoolBytes];
  alignas(16) char stack_buffer_[kStackPoolBytes];
  std::string text_;
  Pool value_pool_;
  Pool stack_pool_;
  Document doc_;
};

// Re-serializes a value as compact JSON (no spaces, key order kept, UTF-8
// copied as is) into a buffer that is reused from call to call.
class CompactJson {
 public:
  CompactJson();
  CompactJson(const CompactJson&) = delete;
  CompactJson& operator=(const CompactJson&) = delete;

  // Valid until the next call.
  std::string_view Write(const JsonValue& value);

 private:
  // The minimal RapidJSON output stream over a std::string.
  class StringStream {
   public:
    using Ch = char;
    explicit StringStream(std::string* out) : out_(out) {}
    void Put(char c) { out_->push_back(c); }
    void Flush() {}

   private:
    std::string* out_;
  };

  std::string out_;
  StringStream stream_;
  rapidjson::Writer<StringStream> writer_;  // kept: its level stack is reused
};

// Field lookups that treat a missing key, null and a value of another type
// alike, so adapters never index into a shape they did not check.
const JsonValue* FindMember(const JsonValue& object, std::string_view key);
const JsonValue* FindObject(const JsonValue& object, std::string_view key);
const JsonValue* FindArray(const JsonValue& object, std::string_view key);
// The string at `key`, or an empty view.
std::string_view FindString(const JsonValue& object, std::string_view key);
// The string value itself, or an empty view when `value` is not a string.
std::string_view AsString(const JsonValue& value);
// A non-negative integer count at `key` (a JSON integer, or a float with an
// integral value as some hosts send), or -1.
int64_t FindCount(const JsonValue& object, std::string_view key);
// The boolean at `key`, or false.
bool FindBool(const JsonValue& object, std::string_view key);

// Appends a short text form of an error code that may be a string or a
// number ({"code": 429} from OpenRouter, {"code": "server_error"} elsewhere).
// Returns false (and appends nothing) for any other type.
bool AppendCodeText(const JsonValue& value, std::string& out);

// Remembers the last usage report so a provider that repeats it on several
// chunks (Groq's x_groq.usage and its usage chunk, Gemini's cumulative
// usageMetadata) yields one OnUsage per distinct report.
class UsageDeduper {
 public:
  // True when these counts differ from the last report emitted.
  bool IsNew(const UsageInfo& usage) const;
  void Remember(const UsageInfo& usage);

 private:
  bool emitted_ = false;
  int64_t input_ = -1;
  int64_t output_ = -1;
  int64_t total_ = -1;
};

// Base of the JSON adapters: the shared error rules of the adapter contract.
//  - Malformed JSON, or a top-level value that is not an object, is reported
//    with OnProtocolError quoting the first ~120 bytes of the event.
//  - After a protocol or provider error every later input is ignored, so a
//    sink sees at most one error and nothing after it.
class JsonAdapter : public Adapter {
 public:
  bool complete() const override { return ended_; }

 protected:
  // `provider` names the adapter in protocol error messages.
  explicit JsonAdapter(std::string_view provider) : provider_(provider) {}

  // True when input must be ignored (an error was reported).
  bool stopped() const { return stopped_; }
  bool ended() const { return ended_; }

  // Parses `data` as one JSON object; on failure reports the protocol error,
  // stops the adapter and returns nullptr.
  const JsonValue* ParseEvent(std::string_view data, DeltaSink& sink);

  void FailProtocol(std::string_view detail, DeltaSink& sink);
  void FailProvider(std::string_view type, std::string_view message, DeltaSink& sink);
  void MarkEnded(DeltaSink& sink);

  // Emits `usage` unless the same counts were the last ones emitted.
  void EmitUsage(const UsageInfo& usage, DeltaSink& sink);

  EventJson json_;
  CompactJson compact_;
  std::string scratch_;  // reusable text for codes and messages

 private:
  std::string_view provider_;
  UsageDeduper usage_;
  bool stopped_ = false;
  bool ended_ = false;
};

// True when `data` holds nothing but JSON whitespace. Such an event carries no
// value: a keep-alive some proxies send as a bare `data:` line.
bool IsBlankData(std::string_view data);

// "invalid JSON in <provider> event: " plus at most ~120 bytes of `data`,
// cut back to a whole UTF-8 character so the message stays valid UTF-8.
void FormatInvalidJson(std::string_view provider, std::string_view data, std::string& out);

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_JSON_UTIL_H_

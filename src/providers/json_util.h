// RapidJSON helpers shared by the provider adapters: a reusable per-adapter
// event parser, a compact re-serializer, typed field lookups and the base
// class that gives every JSON adapter the same error and end-marker rules.
#ifndef LLMRELAY_PROVIDERS_JSON_UTIL_H_
#define LLMRELAY_PROVIDERS_JSON_UTIL_H_

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/delta.h"
#include "providers/adapter.h"

namespace llmrelay {

using JsonValue = rapidjson::Value;

// Parses one event's JSON at a time into memory that is reused for the next
// event, so a steady stream allocates nothing per token:
//  - the text is copied into a std::string that keeps its capacity and is
//    parsed in situ (strings are decoded in place, never copied again);
//  - the tree is built by our own SAX handler on a std::vector that keeps
//    its capacity, with objects and arrays taken from a pool that starts in
//    a fixed buffer inside this object and is rewound, not freed, before
//    each parse. Only an event larger than that buffer takes heap chunks,
//    which the next parse releases.
// (rapidjson::Document would do the same job, but 1.1.0 frees its parse
// stack after every parse, and its stack does arithmetic on a null pointer
// when it starts again, which UBSan rightly reports.)
//
// Nesting is limited to kMaxDepth: RapidJSON's reader, CompactJson and
// DeepCopy recurse once per level, and an event of eight million '[' would
// otherwise overflow the worker thread's stack.
// The tree returned by Parse() is valid until the next call; its strings
// point into this object's buffer (copy them with DeepCopy).
//
// The adapters share one per thread (ForThisThread): a tree lives only while
// an adapter handles one event, so one set of buffers serves every stream of
// the worker thread, stays warm in the cache, and costs nothing per stream
// (a parser each was 12 KiB of pool alone, times every stream in flight).
// Hence no sink may make an adapter parse while another adapter's event is
// being delivered to it on the same thread (nothing does: sinks encode).
class EventJson {
 public:
  static constexpr int kMaxDepth = 128;

  EventJson();
  EventJson(const EventJson&) = delete;
  EventJson& operator=(const EventJson&) = delete;

  // The parser the adapters of the calling thread share.
  static EventJson& ForThisThread();

  // The root value, or nullptr when `text` is not one JSON value (a syntax
  // error, trailing bytes, an embedded NUL, or nesting past kMaxDepth).
  const JsonValue* Parse(std::string_view text);
  // As Parse, but nullptr also when the root is not an object.
  const JsonValue* ParseObject(std::string_view text);

  // After a failed parse: whether it failed on the nesting limit.
  bool too_deep() const { return too_deep_; }

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  class TreeBuilder;

  static constexpr size_t kPoolBytes = size_t{12} * 1024;
  // Buffer sizes kept between events; a huge event's buffers are let go.
  static constexpr size_t kKeptStackValues = 4096;
  static constexpr size_t kKeptTextBytes = size_t{64} * 1024;
  // With RAPIDJSON_SSE2 the in-situ whitespace skipper loads aligned 16-byte
  // blocks, which may reach up to 15 bytes past the terminating NUL. Keeping
  // that much capacity behind the text keeps those loads inside our buffer.
  static constexpr size_t kSimdPadding = 16;

  alignas(16) char pool_buffer_[kPoolBytes];
  std::string text_;
  Pool pool_;
  std::vector<JsonValue> stack_;  // values of the levels still open
  JsonValue root_;
  bool too_deep_ = false;
};

// Re-serializes a value as compact JSON (no spaces, key order kept, UTF-8
// copied as is) into a buffer that is reused from call to call. Doubles get
// their shortest round-trip form.
class CompactJson {
 public:
  // Valid until the next call.
  std::string_view Write(const JsonValue& value);

 private:
  std::string out_;
};

// Copies `source` into `target`, strings included. (RapidJSON's own copy
// keeps pointing at strings parsed in situ, which die with the next event.)
void DeepCopy(const JsonValue& source, JsonValue& target, rapidjson::MemoryPoolAllocator<>& allocator);

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

// "invalid JSON in <provider> event: " (or, for an event over the nesting
// limit, "JSON nested too deeply in <provider> event: ") plus at most ~120
// bytes of `data`, cut back to a whole UTF-8 character so the message stays
// valid UTF-8. Control characters are kept as they are.
void FormatInvalidJson(std::string_view provider, std::string_view data, bool too_deep, std::string& out);

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_JSON_UTIL_H_

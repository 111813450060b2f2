#include "providers/json_util.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#include "base/json_writer.h"

namespace llmrelay {

// Builds the tree from SAX events: scalars are pushed on stack_, and the end
// of an object or array moves its members off the stack into one value.
// Refuses to open a level past kMaxDepth, which stops the reader before it
// recurses any deeper.
class EventJson::TreeBuilder {
 public:
  TreeBuilder(std::vector<JsonValue>& stack, Pool& pool) : stack_(stack), pool_(pool) {}

  bool Null() { return Push(JsonValue()); }
  bool Bool(bool b) { return Push(JsonValue(b)); }
  bool Int(int i) { return Push(JsonValue(i)); }
  bool Uint(unsigned u) { return Push(JsonValue(u)); }
  bool Int64(int64_t i) { return Push(JsonValue(i)); }
  bool Uint64(uint64_t u) { return Push(JsonValue(u)); }
  bool Double(double d) { return Push(JsonValue(d)); }
  // Only sent with kParseNumbersAsStringsFlag, which we do not use.
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    // In situ, strings are never copied: the value points into the text.
    return Push(copy ? JsonValue(s, n, pool_) : JsonValue(rapidjson::StringRef(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return String(s, n, copy); }
  bool StartObject() { return Enter(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    JsonValue object(rapidjson::kObjectType);
    const size_t first = stack_.size() - 2 * static_cast<size_t>(members);
    for (size_t i = first; i < stack_.size(); i += 2) {
      object.AddMember(stack_[i], stack_[i + 1], pool_);  // moves both
    }
    stack_.resize(first);
    return Push(std::move(object));
  }
  bool StartArray() { return Enter(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    JsonValue array(rapidjson::kArrayType);
    array.Reserve(elements, pool_);
    const size_t first = stack_.size() - elements;
    for (size_t i = first; i < stack_.size(); ++i) array.PushBack(stack_[i], pool_);
    stack_.resize(first);
    return Push(std::move(array));
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool Push(JsonValue&& value) {
    stack_.push_back(std::move(value));
    return true;
  }
  bool Enter() {
    if (++depth_ > kMaxDepth) too_deep_ = true;
    return !too_deep_;
  }

  std::vector<JsonValue>& stack_;
  Pool& pool_;
  int depth_ = 0;
  bool too_deep_ = false;
};

EventJson::EventJson() : pool_(pool_buffer_, sizeof pool_buffer_) {}

EventJson& EventJson::ForThisThread() {
  // On the heap, made on first use: a module loaded with dlopen gets little
  // static TLS, and threads that never parse pay nothing.
  thread_local std::unique_ptr<EventJson> parser;
  if (!parser) parser = std::make_unique<EventJson>();
  return *parser;
}

const JsonValue* EventJson::Parse(std::string_view text) {
  too_deep_ = false;
  // RapidJSON stops at a NUL as if the text ended there, which would accept
  // `{"a":1}<NUL>garbage`. A raw NUL is never valid JSON, so refuse it here.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return nullptr;

  // Rewind: the previous tree is dead from here on. (Values need no
  // destruction: the pool allocator never frees one by one.)
  root_.SetNull();
  stack_.clear();
  pool_.Clear();  // keeps the fixed buffer, releases overflow chunks

  // One huge event should not pin its buffer for the rest of the stream.
  if (text_.capacity() > kKeptTextBytes && text.size() + kSimdPadding <= kKeptTextBytes) {
    std::string().swap(text_);
  }
  if (text_.capacity() < text.size() + kSimdPadding) text_.reserve(text.size() + kSimdPadding);
  text_.assign(text.data(), text.size());

  // kParseDefaultFlags (in situ) decodes \uXXXX escapes, surrogate pairs
  // included, and rejects lone high surrogates, raw control characters and
  // trailing bytes after the root value. In situ, the reader needs no stack
  // of its own: strings are decoded in place and numbers are not copied.
  rapidjson::InsituStringStream stream(&text_[0]);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>> reader;
  TreeBuilder builder(stack_, pool_);
  const bool ok = !reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseDefaultFlags>(stream, builder).IsError();
  too_deep_ = builder.too_deep();
  const bool parsed = ok && stack_.size() == 1;
  if (parsed) root_ = std::move(stack_.back());
  stack_.clear();
  if (stack_.capacity() > kKeptStackValues) std::vector<JsonValue>().swap(stack_);
  return parsed ? &root_ : nullptr;
}

const JsonValue* EventJson::ParseObject(std::string_view text) {
  const JsonValue* root = Parse(text);
  return root != nullptr && root->IsObject() ? root : nullptr;
}

void DeepCopy(const JsonValue& source, JsonValue& target, rapidjson::MemoryPoolAllocator<>& allocator) {
  if (source.IsString()) {
    target.SetString(source.GetString(), source.GetStringLength(), allocator);
  } else if (source.IsObject()) {
    target.SetObject();
    for (const auto& member : source.GetObject()) {
      JsonValue name(member.name.GetString(), member.name.GetStringLength(), allocator);
      JsonValue value;
      DeepCopy(member.value, value, allocator);
      target.AddMember(name, value, allocator);
    }
  } else if (source.IsArray()) {
    target.SetArray();
    target.Reserve(source.Size(), allocator);
    for (const JsonValue& element : source.GetArray()) {
      JsonValue value;
      DeepCopy(element, value, allocator);
      target.PushBack(value, allocator);
    }
  } else {
    target.CopyFrom(source, allocator);  // numbers, booleans, null: no pointers
  }
}

std::string_view CompactJson::Write(const JsonValue& value) {
  out_.clear();
  CompactJsonWriter writer(out_);
  value.Accept(writer);
  return out_;
}

const JsonValue* FindMember(const JsonValue& object, std::string_view key) {
  if (!object.IsObject()) return nullptr;
  const auto it =
      object.FindMember(JsonValue(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

const JsonValue* FindObject(const JsonValue& object, std::string_view key) {
  const JsonValue* value = FindMember(object, key);
  return value != nullptr && value->IsObject() ? value : nullptr;
}

const JsonValue* FindArray(const JsonValue& object, std::string_view key) {
  const JsonValue* value = FindMember(object, key);
  return value != nullptr && value->IsArray() ? value : nullptr;
}

std::string_view AsString(const JsonValue& value) {
  if (!value.IsString()) return {};
  return std::string_view(value.GetString(), value.GetStringLength());
}

std::string_view FindString(const JsonValue& object, std::string_view key) {
  const JsonValue* value = FindMember(object, key);
  return value != nullptr ? AsString(*value) : std::string_view();
}

int64_t FindCount(const JsonValue& object, std::string_view key) {
  const JsonValue* value = FindMember(object, key);
  if (value == nullptr) return -1;
  if (value->IsInt64()) return value->GetInt64() >= 0 ? value->GetInt64() : -1;
  if (value->IsUint64()) return INT64_MAX;  // beyond int64: saturate
  if (value->IsDouble()) {
    const double d = value->GetDouble();
    if (d >= 0 && d < 9.2e18 && std::floor(d) == d) return static_cast<int64_t>(d);
  }
  return -1;
}

bool FindBool(const JsonValue& object, std::string_view key) {
  const JsonValue* value = FindMember(object, key);
  return value != nullptr && value->IsBool() && value->GetBool();
}

bool AppendCodeText(const JsonValue& value, std::string& out) {
  if (value.IsString()) {
    out.append(value.GetString(), value.GetStringLength());
    return true;
  }
  if (value.IsInt64()) {
    AppendInt(out, value.GetInt64());
    return true;
  }
  return false;
}

bool UsageDeduper::IsNew(const UsageInfo& usage) const {
  return !emitted_ || usage.input_tokens != input_ || usage.output_tokens != output_ || usage.total_tokens != total_;
}

void UsageDeduper::Remember(const UsageInfo& usage) {
  emitted_ = true;
  input_ = usage.input_tokens;
  output_ = usage.output_tokens;
  total_ = usage.total_tokens;
}

const JsonValue* JsonAdapter::ParseEvent(std::string_view data, DeltaSink& sink) {
  EventJson& json = EventJson::ForThisThread();
  const JsonValue* root = json.ParseObject(data);
  if (root == nullptr) {
    FormatInvalidJson(provider_, data, json.too_deep(), scratch_);
    FailProtocol(scratch_, sink);
  }
  return root;
}

void JsonAdapter::FailProtocol(std::string_view detail, DeltaSink& sink) {
  if (stopped_) return;
  stopped_ = true;
  sink.OnProtocolError(detail);
}

void JsonAdapter::FailProvider(std::string_view type, std::string_view message, DeltaSink& sink) {
  if (stopped_) return;
  stopped_ = true;
  sink.OnProviderError(type, message);
}

void JsonAdapter::MarkEnded(DeltaSink& sink) {
  if (ended_) return;
  ended_ = true;
  sink.OnEndMarker();
}

void JsonAdapter::EmitUsage(const UsageInfo& usage, DeltaSink& sink) {
  // A usage object without any count (`{}`, or only cost fields) says nothing
  // a consumer can add up; it is not a report.
  if (usage.input_tokens < 0 && usage.output_tokens < 0 && usage.total_tokens < 0) return;
  if (!usage_.IsNew(usage)) return;
  usage_.Remember(usage);
  sink.OnUsage(usage);
}

bool IsBlankData(std::string_view data) {
  for (const char c : data) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

void FormatInvalidJson(std::string_view provider, std::string_view data, bool too_deep, std::string& out) {
  constexpr size_t kQuoteBytes = 120;
  out.assign(too_deep ? "JSON nested too deeply in " : "invalid JSON in ");
  out.append(provider);
  out.append(" event: ");
  if (data.size() <= kQuoteBytes) {
    out.append(data);
    return;
  }
  // A continuation byte (10xxxxxx) right at the cut means a character
  // straddles it: step back to that character's lead byte and leave it out.
  size_t cut = kQuoteBytes;
  while (cut > 0 && (static_cast<unsigned char>(data[cut]) & 0xC0) == 0x80) --cut;
  out.append(data.substr(0, cut));
}

}  // namespace llmrelay

#include "providers/json_util.h"

#include <cmath>
#include <cstring>

#include "core/json_out.h"

namespace llmrelay {

EventJson::EventJson()
    : value_pool_(value_buffer_, sizeof value_buffer_),
      stack_pool_(stack_buffer_, sizeof stack_buffer_),
      doc_(&value_pool_, kStackInitialBytes, &stack_pool_) {}

const JsonValue* EventJson::ParseObject(std::string_view text) {
  // RapidJSON stops at a NUL as if the text ended there, which would accept
  // `{"a":1}<NUL>garbage`. A raw NUL is never valid JSON, so refuse it here.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return nullptr;

  // Rewind both pools: the previous tree is dead from here on. Clear() keeps
  // the fixed buffers and releases only overflow chunks of a large event.
  doc_.SetNull();
  value_pool_.Clear();
  stack_pool_.Clear();

  if (text_.capacity() < text.size() + kSimdPadding) text_.reserve(text.size() + kSimdPadding);
  text_.assign(text.data(), text.size());
  // kParseDefaultFlags decodes \uXXXX escapes, surrogate pairs included, and
  // rejects lone surrogates and trailing bytes after the root value.
  doc_.ParseInsitu<rapidjson::kParseDefaultFlags>(&text_[0]);
  if (doc_.HasParseError() || !doc_.IsObject()) return nullptr;
  return &doc_;
}

CompactJson::CompactJson() : stream_(&out_), writer_(stream_) {}

std::string_view CompactJson::Write(const JsonValue& value) {
  out_.clear();
  writer_.Reset(stream_);
  value.Accept(writer_);
  return out_;
}

const JsonValue* FindMember(const JsonValue& object, std::string_view key) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(
      JsonValue(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
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
  return !emitted_ || usage.input_tokens != input_ || usage.output_tokens != output_ ||
         usage.total_tokens != total_;
}

void UsageDeduper::Remember(const UsageInfo& usage) {
  emitted_ = true;
  input_ = usage.input_tokens;
  output_ = usage.output_tokens;
  total_ = usage.total_tokens;
}

const JsonValue* JsonAdapter::ParseEvent(std::string_view data, DeltaSink& sink) {
  const JsonValue* root = json_.ParseObject(data);
  if (root == nullptr) {
    FormatInvalidJson(provider_, data, scratch_);
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

void FormatInvalidJson(std::string_view provider, std::string_view data, std::string& out) {
  constexpr size_t kQuoteBytes = 120;
  out.assign("invalid JSON in ");
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

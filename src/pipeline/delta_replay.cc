#include "pipeline/delta_replay.h"

#include <rapidjson/document.h>

#include "base/json_writer.h"

namespace llmrelay {

namespace {

using Value = rapidjson::Value;

std::string_view Str(const Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

int64_t Count(const Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsInt64()) return -1;
  return it->value.GetInt64();
}

}  // namespace

FinishReason FinishReasonFromName(std::string_view name) {
  for (const FinishReason reason : {FinishReason::kStop, FinishReason::kLength, FinishReason::kToolCalls,
                                    FinishReason::kContentFilter, FinishReason::kError}) {
    if (FinishReasonName(reason) == name) return reason;
  }
  return FinishReason::kOther;
}

void DeltaReplay::Start(std::string& out, bool emit) {
  if (emit) {
    encoder_->Start(out);
    return;
  }
  scratch_.clear();
  encoder_->Start(scratch_);
}

void DeltaReplay::AppendId(std::string& out, size_t before, uint64_t seq) const {
  if (!ids_ || seq == 0 || !encoder_->sse_framed() || out.size() <= before || out.back() != '\n') return;
  out.pop_back();
  out.append("id: ");
  AppendUint(out, seq);
  out.append("\n\n");
}

bool DeltaReplay::Replay(std::string_view entries, uint64_t first_seq, uint64_t emit_after_seq, std::string& out,
                         std::string* error) {
  while (!entries.empty() && (entries.back() == ',' || entries.back() == ' ')) entries.remove_suffix(1);
  if (entries.empty()) return true;
  std::string text;
  text.reserve(entries.size() + 2);
  text.push_back('[');
  text.append(entries);
  text.push_back(']');
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    *error = "resume log entries are not Delta JSON";
    return false;
  }
  uint64_t seq = first_seq;
  for (const Value& d : doc.GetArray()) {
    if (!d.IsObject()) {
      *error = "a resume log entry is not a JSON object";
      return false;
    }
    const bool emit = seq > emit_after_seq;
    std::string& target = emit ? out : scratch_;
    if (!emit) scratch_.clear();
    const size_t before = target.size();
    const std::string_view type = Str(d, "type");
    if (type == "text") {
      encoder_->Text(target, Str(d, "text"));
    } else if (type == "reasoning") {
      encoder_->Reasoning(target, Str(d, "text"));
    } else if (type == "tool-call") {
      const int64_t index = Count(d, "index");
      encoder_->ToolCall(target, static_cast<uint32_t>(index < 0 ? 0 : index), Str(d, "id"), Str(d, "name"),
                         Str(d, "argumentsDelta"));
    } else if (type == "usage") {
      UsageInfo usage;
      usage.input_tokens = Count(d, "inputTokens");
      usage.output_tokens = Count(d, "outputTokens");
      usage.total_tokens = Count(d, "totalTokens");
      std::string raw;
      const auto it = d.FindMember("raw");
      if (it != d.MemberEnd() && it->value.IsObject()) {
        CompactJsonWriter writer(raw);
        it->value.Accept(writer);
      } else {
        raw = "{}";
      }
      usage.raw_json = raw;
      encoder_->Usage(target, usage);
    } else if (type == "finish") {
      encoder_->Finish(target, FinishReasonFromName(Str(d, "reason")), Str(d, "raw"));
    } else if (type == "event") {
      const auto id = d.FindMember("id");
      const bool has_id = id != d.MemberEnd() && id->value.IsString();
      encoder_->RawEvent(target, Str(d, "event"), Str(d, "data"), Str(d, "id"), has_id);
    } else if (type == "data") {
      std::string data_json;
      const auto it = d.FindMember("data");
      if (it != d.MemberEnd()) {
        CompactJsonWriter writer(data_json);
        it->value.Accept(writer);
      }
      encoder_->Data(target, Str(d, "name"), data_json);
    } else {
      *error = "a resume log entry has an unknown delta type";
      return false;
    }
    AppendId(target, before, seq);
    ++seq;
  }
  return true;
}

void DeltaReplay::Data(std::string& out, std::string_view name, std::string_view data_json, uint64_t seq) {
  const size_t before = out.size();
  encoder_->Data(out, name, data_json);
  AppendId(out, before, seq);
}

}  // namespace llmrelay

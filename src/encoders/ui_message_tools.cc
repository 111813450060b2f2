#include "encoders/ui_message_tools.h"

#include <algorithm>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "base/json_writer.h"

namespace llmrelay {

namespace {

bool IsJsonWhitespace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// Appends `json` re-serialized compactly. On failure appends nothing and
// writes a description to `error`. Iterative parsing keeps deeply nested
// input from exhausting the worker thread's stack.
bool AppendCompactJson(std::string& out, const std::string& json, std::string& error) {
  // An embedded NUL would end rapidjson's StringStream early and let
  // trailing bytes pass unchecked; raw NUL is never valid JSON anyway.
  if (json.find('\0') != std::string::npos) {
    error.assign("NUL byte in tool call arguments");
    return false;
  }
  const size_t mark = out.size();
  rapidjson::StringStream stream(json.c_str());
  CompactJsonWriter writer(out);
  rapidjson::Reader reader;
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, writer);
  if (result) return true;
  out.resize(mark);
  error.assign("Tool call arguments are not valid JSON: ");
  error.append(rapidjson::GetParseError_En(result.Code()));
  error.append(" (at byte ");
  AppendInt(error, static_cast<int64_t>(result.Offset()));
  error.push_back(')');
  return false;
}

}  // namespace

void AppendToolInputStart(std::string& out, UiToolSlot& slot, std::string_view message_id) {
  if (slot.id.empty()) {
    // toolCallId is required and must be unique within the message; some
    // providers (Gemini, Ollama) send no id at all.
    if (!message_id.empty()) {
      slot.id.assign(message_id);
      slot.id.push_back('-');
    }
    slot.id.append("call-");
    AppendInt(slot.id, slot.index);
  }
  slot.started = true;
  out.append(R"(data: {"type":"tool-input-start","toolCallId":)");
  AppendJsonString(out, slot.id);
  out.append(R"(,"toolName":)");
  AppendJsonString(out, slot.name);
  out.append("}\n\n");
}

void AppendToolInputDelta(std::string& out, const UiToolSlot& slot, std::string_view delta) {
  out.append(R"(data: {"type":"tool-input-delta","toolCallId":)");
  AppendJsonString(out, slot.id);
  out.append(R"(,"inputTextDelta":)");
  AppendJsonString(out, delta);
  out.append("}\n\n");
}

void AppendToolInputFinal(std::string& out, const UiToolSlot& slot, std::string& scratch) {
  const size_t mark = out.size();
  out.append(R"(data: {"type":"tool-input-available","toolCallId":)");
  AppendJsonString(out, slot.id);
  out.append(R"(,"toolName":)");
  AppendJsonString(out, slot.name);
  out.append(R"(,"input":)");
  // A tool without parameters may stream no argument bytes at all.
  if (IsJsonWhitespace(slot.arguments)) {
    out.append("{}}\n\n");
    return;
  }
  if (AppendCompactJson(out, slot.arguments, scratch)) {
    out.append("}\n\n");
    return;
  }
  out.resize(mark);
  out.append(R"(data: {"type":"tool-input-error","toolCallId":)");
  AppendJsonString(out, slot.id);
  out.append(R"(,"toolName":)");
  AppendJsonString(out, slot.name);
  out.append(R"(,"input":)");
  AppendJsonString(out, slot.arguments);
  out.append(R"(,"errorText":)");
  AppendJsonString(out, scratch);
  out.append("}\n\n");
}

}  // namespace llmrelay

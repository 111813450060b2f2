// The fast paths of the "openai" and "anthropic" adapters (fast_paths.h):
// the hot event shapes read with JsonScan, each function the exact list of
// what its adapter's full path acts on.
#include "providers/fast_paths.h"

#include "providers/json_scan.h"

namespace llmrelay {
namespace {

// ---- OpenAI chat.completion.chunk ---------------------------------------------

bool TakeNullOrEmpty(JsonScan& scan) {
  std::string_view value;
  return scan.TakeNull() || (scan.PlainString(&value) && value.empty());
}

// {"content":…}: content a string or null; refusal and the reasoning keys
// null or ""; tool_calls and function_call null; each at most once.
bool TakeContentDelta(JsonScan& scan, std::string& scratch, std::string_view* content) {
  if (!scan.Take('{')) return false;
  // content, refusal, reasoning_content, reasoning, tool_calls, function_call
  bool seen[6] = {false, false, false, false, false, false};
  bool first = true;
  std::string_view key;
  for (;;) {
    const JsonScan::Next next = scan.NextMember(first, &key);
    if (next == JsonScan::Next::kEnd) return true;
    if (next != JsonScan::Next::kMember) return false;
    int slot = -1;
    if (key == "content")
      slot = 0;
    else if (key == "refusal")
      slot = 1;
    else if (key == "reasoning_content")
      slot = 2;
    else if (key == "reasoning")
      slot = 3;
    else if (key == "tool_calls")
      slot = 4;
    else if (key == "function_call")
      slot = 5;
    if (slot < 0) {
      if (!scan.Skip()) return false;  // role, and keys nobody reads
      continue;
    }
    if (seen[slot]) return false;
    seen[slot] = true;
    bool ok;
    if (slot == 0) {
      ok = scan.TakeNull() || scan.String(content, scratch);
    } else if (slot <= 3) {
      ok = TakeNullOrEmpty(scan);
    } else {
      ok = scan.TakeNull();
    }
    if (!ok) return false;
  }
}

// `[{…}]`: exactly one choice, index 0 (or none given), a delta object,
// finish_reason null or "".
bool TakeOneChoice(JsonScan& scan, std::string& scratch, std::string_view* content) {
  if (!scan.Take('[') || !scan.Take('{')) return false;
  bool index = false;
  bool delta = false;
  bool finish = false;
  bool first = true;
  std::string_view key;
  for (;;) {
    const JsonScan::Next next = scan.NextMember(first, &key);
    if (next == JsonScan::Next::kEnd) break;
    if (next != JsonScan::Next::kMember) return false;
    if (key == "index") {
      if (index || !scan.TakeZero()) return false;
      index = true;
    } else if (key == "delta") {
      if (delta || !TakeContentDelta(scan, scratch, content)) return false;
      delta = true;
    } else if (key == "finish_reason") {
      if (finish || !TakeNullOrEmpty(scan)) return false;
      finish = true;
    } else if (!scan.Skip()) {  // logprobs, and `text` (read only without a delta)
      return false;
    }
  }
  return delta && scan.Take(']');
}

}  // namespace

bool ScanOpenAiContentChunk(std::string_view data, std::string& scratch, std::string_view* content) {
  *content = {};
  JsonScan scan(data);
  if (!scan.Take('{')) return false;
  bool choices = false;
  bool object = false;
  bool first = true;
  std::string_view key;
  for (;;) {
    const JsonScan::Next next = scan.NextMember(first, &key);
    if (next == JsonScan::Next::kEnd) break;
    if (next != JsonScan::Next::kMember) return false;
    if (key == "choices") {
      if (choices || !TakeOneChoice(scan, scratch, content)) return false;
      choices = true;
    } else if (key == "error" || key == "usage" || key == "x_groq") {
      if (!scan.TakeNull()) return false;
    } else if (key == "object") {
      std::string_view value;
      if (object) return false;
      object = true;
      if (scan.Peek() == '"') {
        if (!scan.PlainString(&value) || value == "error") return false;
      } else if (!scan.Skip()) {
        return false;
      }
    } else if (!scan.Skip()) {
      return false;
    }
  }
  return choices && scan.AtEnd();
}

namespace {

// ---- Anthropic content_block_delta ---------------------------------------------

// {"type":…,"text":…} (or "thinking"): `type` a string without escapes,
// `thinking` too (the text may have escapes: one scratch), each key at most
// once.
bool TakeDelta(JsonScan& scan, std::string& scratch, AnthropicHotEvent* hot) {
  if (!scan.Take('{')) return false;
  std::string_view type;
  std::string_view text;
  std::string_view thinking;
  bool has_type = false;
  bool has_text = false;
  bool has_thinking = false;
  bool first = true;
  std::string_view key;
  for (;;) {
    const JsonScan::Next next = scan.NextMember(first, &key);
    if (next == JsonScan::Next::kEnd) break;
    if (next != JsonScan::Next::kMember) return false;
    if (key == "type") {
      if (has_type || !scan.PlainString(&type)) return false;
      has_type = true;
    } else if (key == "text") {
      if (has_text || !scan.String(&text, scratch)) return false;
      has_text = true;
    } else if (key == "thinking") {
      if (has_thinking || !scan.PlainString(&thinking)) return false;
      has_thinking = true;
    } else if (!scan.Skip()) {
      return false;
    }
  }
  if (type == "text_delta") {
    hot->kind = AnthropicHotEvent::kText;
    hot->text = text;
    return true;
  }
  if (type == "thinking_delta") {
    hot->kind = AnthropicHotEvent::kThinking;
    hot->text = thinking;
    return true;
  }
  return false;
}

}  // namespace

bool ScanAnthropicHotEvent(std::string_view data, std::string_view event_type, std::string& scratch,
                           AnthropicHotEvent* hot) {
  *hot = AnthropicHotEvent{};
  JsonScan scan(data);
  if (!scan.Take('{')) return false;
  std::string_view type;
  AnthropicHotEvent delta;
  bool has_type = false;
  bool has_delta = false;
  bool first = true;
  std::string_view key;
  for (;;) {
    const JsonScan::Next next = scan.NextMember(first, &key);
    if (next == JsonScan::Next::kEnd) break;
    if (next != JsonScan::Next::kMember) return false;
    if (key == "type") {
      if (has_type || !scan.PlainString(&type)) return false;
      has_type = true;
    } else if (key == "delta") {
      if (has_delta || !TakeDelta(scan, scratch, &delta)) return false;
      has_delta = true;
    } else if (!scan.Skip()) {  // index (read for tool input only), and the rest
      return false;
    }
  }
  if (!scan.AtEnd()) return false;
  if (type == "content_block_delta") {
    if (!has_delta) return false;
    *hot = delta;
    return true;
  }
  // Events that carry nothing, unless the event line says error (the full
  // path fails the stream then).
  if ((type == "ping" || type == "content_block_stop") && event_type != "error") {
    hot->kind = AnthropicHotEvent::kNothing;
    return true;
  }
  return false;
}

}  // namespace llmrelay

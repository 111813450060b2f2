// Provider "openai": Chat Completions (docs/wire-formats.md §2), the legacy
// Completions shape (§3) and the OpenAI-compatible hosts of §8 (OpenRouter,
// Groq, DeepSeek, Mistral, vLLM, Together, Azure, Ollama's /v1).
//
// Only choice index 0 is relayed: a request with n>1 is not supported, and
// the other choices are dropped rather than interleaved into one answer.
#include <string>
#include <vector>

#include "providers/fast_paths.h"
#include "providers/json_util.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

// §0 table, OpenAI row. Anything else a compatible host invents is "other"
// (the raw value travels with it).
FinishReason MapFinishReason(std::string_view raw) {
  if (raw == "stop") return FinishReason::kStop;
  if (raw == "length") return FinishReason::kLength;
  if (raw == "tool_calls" || raw == "function_call") return FinishReason::kToolCalls;
  if (raw == "content_filter") return FinishReason::kContentFilter;
  if (raw == "error") return FinishReason::kError;
  return FinishReason::kOther;
}

// Maps the provider's tool-call keys to our slots 0, 1, 2... in order of
// first appearance.
//
// The trap: OpenAI keys fragments by `index`, and only the first fragment of
// a call carries `id` and `function.name`. Some compatible hosts get `index`
// wrong: they send a second call's first fragment with the first call's
// index (or every call with index 0). Keying by index alone would glue two
// calls into one. So a fragment with an id is routed by id (a new id is a new
// call), and a fragment without one by the index it carries, which is
// re-pointed at whichever call last used it.
class ToolSlots {
 public:
  static constexpr size_t kMaxSlots = 1024;  // as many as Summary keeps

  struct Slot {
    std::string id;
    bool announced = false;  // a delta went out for this slot
    bool id_emitted = false;
    bool name_emitted = false;
  };

  // The slot for a fragment, or -1 when the stream opened too many calls.
  // `index` is the fragment's provider index (its array position when the
  // host omits it); `has_name` tells a call's first fragment from a later one.
  int Route(std::string_view id, int64_t index, bool has_name) {
    if (!id.empty()) {
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].id == id) return Remember(index, static_cast<int>(i));
      }
      // An unknown id on an index whose call never had an id (its first
      // fragment omitted it): the same call, now named.
      const int by_index = Lookup(index);
      if (by_index >= 0 && slots_[by_index].id.empty()) {
        slots_[by_index].id.assign(id);
        return Remember(index, by_index);
      }
      return Remember(index, Open(id));
    }
    const int by_index = Lookup(index);
    if (by_index >= 0) return by_index;
    // An index never seen, without id or name, cannot start a call (a first
    // fragment names its function): it continues the call opened last, whose
    // first fragment carried a wrong index.
    if (!has_name && !slots_.empty()) {
      return Remember(index, static_cast<int>(slots_.size() - 1));
    }
    return Remember(index, Open({}));
  }

  Slot& at(int slot) { return slots_[static_cast<size_t>(slot)]; }

 private:
  int Open(std::string_view id) {
    if (slots_.size() >= kMaxSlots) return -1;
    slots_.emplace_back();
    slots_.back().id.assign(id);
    return static_cast<int>(slots_.size() - 1);
  }

  int Lookup(int64_t index) const {
    for (const auto& entry : by_index_) {
      if (entry.first == index) return entry.second;
    }
    return -1;
  }

  int Remember(int64_t index, int slot) {
    if (slot < 0) return slot;
    for (auto& entry : by_index_) {
      if (entry.first == index) {
        entry.second = slot;
        return slot;
      }
    }
    by_index_.emplace_back(index, slot);
    return slot;
  }

  std::vector<Slot> slots_;
  std::vector<std::pair<int64_t, int>> by_index_;  // provider index → slot
};

class OpenAiChatAdapter final : public JsonAdapter {
 public:
  explicit OpenAiChatAdapter(bool fast_path) : JsonAdapter("openai"), fast_path_(fast_path) {}

  Framing framing() const override { return Framing::kSse; }

  // Runs on the worker thread.
  void OnSseEvent(const SseEvent& event, DeltaSink& sink) override {
    if (stopped() || ended()) return;
    // openai-python checks the prefix before any JSON parsing, and so do we.
    if (event.data.substr(0, 6) == "[DONE]") {
      MarkEnded(sink);
      return;
    }
    if (IsBlankData(event.data)) return;
    if (fast_path_ && event.type != "error") {
      std::string_view content;
      if (ScanOpenAiContentChunk(event.data, scratch_, &content)) {
        if (!content.empty()) sink.OnText(content);
        return;
      }
    }
    const JsonValue* root = ParseEvent(event.data, sink);
    if (root == nullptr) return;
    if (HandleError(*root, event.type, sink)) return;

    // Azure's first chunk has `choices: []` (prompt filter results only) and
    // the usage chunk has `[]`, `null` or no key at all (vLLM): never assume
    // a choice is there.
    std::string_view finish_raw;
    if (const JsonValue* choices = FindArray(*root, "choices")) {
      for (rapidjson::SizeType i = 0; i < choices->Size(); ++i) {
        const JsonValue& choice = (*choices)[i];
        if (!choice.IsObject()) continue;
        const int64_t index = FindCount(choice, "index");
        if ((index >= 0 ? index : static_cast<int64_t>(i)) != 0) continue;
        if (!HandleChoice(choice, sink)) return;
        std::string_view raw = FindString(choice, "finish_reason");
        if (!raw.empty()) finish_raw = raw;
      }
    }
    // Usage travels on its own `choices: []` chunk (include_usage), on the
    // finishing chunk (Mistral, Together), or in Groq's `x_groq.usage`.
    const JsonValue* usage = FindObject(*root, "usage");
    if (usage == nullptr) {
      if (const JsonValue* groq = FindObject(*root, "x_groq")) usage = FindObject(*groq, "usage");
    }
    if (usage != nullptr) {
      UsageInfo info;
      info.input_tokens = FindCount(*usage, "prompt_tokens");
      info.output_tokens = FindCount(*usage, "completion_tokens");
      info.total_tokens = FindCount(*usage, "total_tokens");
      info.raw_json = compact_.Write(*usage);
      EmitUsage(info, sink);
    }
    // The first finish_reason wins: OpenRouter's usage chunk may repeat the
    // choice with `finish_reason: null`, which must not clear it.
    if (!finish_raw.empty() && !finished_) {
      finished_ = true;
      sink.OnFinish(MapFinishReason(finish_raw), finish_raw);
    }
  }

 private:
  // An error in a data line: `{"error":{...}}` (OpenAI, OpenRouter with
  // finish_reason "error", vLLM), vLLM's bare `{"object":"error",...}`, or any
  // JSON sent as `event: error` (openai-python raises on both).
  bool HandleError(const JsonValue& root, std::string_view event_type, DeltaSink& sink) {
    const JsonValue* error = FindMember(root, "error");
    // `"error": null` (skipped by FindMember), `false` or `""` on an
    // ordinary chunk means no error.
    if (error != nullptr && (error->IsFalse() || (error->IsString() && error->GetStringLength() == 0))) {
      error = nullptr;
    }
    const JsonValue* fields = nullptr;
    if (error != nullptr) {
      if (error->IsString()) {
        FailProvider("error", AsString(*error), sink);
        return true;
      }
      fields = error->IsObject() ? error : &root;
    } else if (FindString(root, "object") == "error" || event_type == "error") {
      fields = &root;
    } else {
      return false;
    }
    scratch_.clear();
    const std::string_view type = FindString(*fields, "type");
    if (!type.empty()) {
      scratch_.assign(type);
    } else if (const JsonValue* code = FindMember(*fields, "code")) {
      AppendCodeText(*code, scratch_);
    }
    if (scratch_.empty()) scratch_.assign("error");
    std::string_view message = FindString(*fields, "message");
    if (message.empty()) message = compact_.Write(error != nullptr ? *error : root);
    FailProvider(scratch_, message, sink);
    return true;
  }

  // Returns false when the adapter stopped (too many tool calls).
  bool HandleChoice(const JsonValue& choice, DeltaSink& sink) {
    if (const JsonValue* delta = FindObject(choice, "delta")) return HandleDelta(*delta, sink);
    // Legacy Completions put the text straight on the choice. Together sends
    // both `text` and `delta`; reading `text` only without a delta keeps its
    // text from doubling. Azure's annotation chunks have neither.
    const std::string_view text = FindString(choice, "text");
    if (!text.empty()) sink.OnText(text);
    return true;
  }

  bool HandleDelta(const JsonValue& delta, DeltaSink& sink) {
    if (const JsonValue* content = FindMember(delta, "content")) {
      if (content->IsString()) {
        if (content->GetStringLength() > 0) sink.OnText(AsString(*content));
      } else if (content->IsArray()) {
        HandleContentArray(*content, sink);
      }
    }
    // A refusal is what the model said instead of an answer: relay it as text
    // (the finish reason stays "stop").
    const std::string_view refusal = FindString(delta, "refusal");
    if (!refusal.empty()) sink.OnText(refusal);

    // DeepSeek and older vLLM send `reasoning_content`; Ollama's /v1, Groq,
    // OpenRouter and newer vLLM send `reasoning`. A host that fills both
    // (vLLM during the rename) sends the same text twice, so take one.
    // OpenRouter's `reasoning_details` repeat `reasoning` and are skipped.
    std::string_view reasoning = FindString(delta, "reasoning_content");
    if (reasoning.empty()) reasoning = FindString(delta, "reasoning");
    if (!reasoning.empty()) sink.OnReasoning(reasoning);

    if (const JsonValue* calls = FindArray(delta, "tool_calls")) {
      for (rapidjson::SizeType i = 0; i < calls->Size(); ++i) {
        const JsonValue& call = (*calls)[i];
        if (!call.IsObject()) continue;
        const JsonValue* function = FindObject(call, "function");
        int64_t index = FindCount(call, "index");
        if (index < 0) index = i;  // Mistral-style whole calls may omit it
        if (!EmitToolFragment(FindString(call, "id"), index, function, sink)) return false;
      }
    }
    // The deprecated single `function_call` is one call without an id.
    if (const JsonValue* function = FindObject(delta, "function_call")) {
      if (!EmitToolFragment({}, 0, function, sink)) return false;
    }
    return true;
  }

  // Magistral sends `content` as typed chunks:
  // [{"type":"thinking","thinking":[{"type":"text","text":"…"}]}, {"type":"text","text":"…"}].
  void HandleContentArray(const JsonValue& chunks, DeltaSink& sink) {
    for (const JsonValue& chunk : chunks.GetArray()) {
      if (!chunk.IsObject()) continue;
      const std::string_view type = FindString(chunk, "type");
      if (type == "text") {
        const std::string_view text = FindString(chunk, "text");
        if (!text.empty()) sink.OnText(text);
      } else if (type == "thinking") {
        const JsonValue* thinking = FindMember(chunk, "thinking");
        if (thinking == nullptr) continue;
        if (thinking->IsString()) {
          if (thinking->GetStringLength() > 0) sink.OnReasoning(AsString(*thinking));
        } else if (thinking->IsArray()) {
          for (const JsonValue& part : thinking->GetArray()) {
            if (!part.IsObject()) continue;
            const std::string_view text = FindString(part, "text");
            if (!text.empty()) sink.OnReasoning(text);
          }
        }
      }
    }
  }

  bool EmitToolFragment(std::string_view id, int64_t index, const JsonValue* function, DeltaSink& sink) {
    std::string_view name;
    std::string_view arguments;
    if (function != nullptr) {
      name = FindString(*function, "name");
      if (const JsonValue* args = FindMember(*function, "arguments")) {
        // A JSON string, concatenated as is (its inner escapes such as a
        // split `\u6771` are not ours to decode). A host that sends an
        // object instead gets it re-serialized compactly.
        arguments = args->IsString() ? AsString(*args) : compact_.Write(*args);
      }
    }
    const int slot_index = tools_.Route(id, index, !name.empty());
    if (slot_index < 0) {
      FailProtocol("too many tool calls in openai stream (more than 1024)", sink);
      return false;
    }
    ToolSlots::Slot& slot = tools_.at(slot_index);
    // id and name go out once per call; a host that repeats them, or sends
    // them empty or null on later fragments, changes nothing.
    std::string_view new_id;
    if (!slot.id_emitted && !slot.id.empty()) {
      new_id = slot.id;
      slot.id_emitted = true;
    }
    std::string_view new_name;
    if (!slot.name_emitted && !name.empty()) {
      new_name = name;
      slot.name_emitted = true;
    }
    // A new slot always gets a delta, even an empty one, so the slots a sink
    // sees stay dense (0, 1, 2...) whatever the first fragment carried.
    const bool fresh = !slot.announced;
    slot.announced = true;
    if (!fresh && new_id.empty() && new_name.empty() && arguments.empty()) return true;
    sink.OnToolCall(static_cast<uint32_t>(slot_index), new_id, new_name, arguments);
    return true;
  }

  ToolSlots tools_;
  bool finished_ = false;
  bool fast_path_;
  std::string scratch_;  // fast path: content with escapes, decoded
};

}  // namespace

std::unique_ptr<Adapter> MakeOpenAiChatAdapter() { return std::make_unique<OpenAiChatAdapter>(true); }

std::unique_ptr<Adapter> MakeOpenAiChatAdapterFullParse() { return std::make_unique<OpenAiChatAdapter>(false); }

}  // namespace llmrelay

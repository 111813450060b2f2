// The three formats that carry the Delta JSON (the README's Delta table) unchanged and
// differ only in framing:
//   "json"    `<delta>,`  — object mode: lib/ parses a whole batch at once with
//             JSON.parse('[' + batch.slice(0, -1) + ']'), so each delta ends in
//             a comma and Start/Done/Error write nothing (JS ends the stream).
//   "sse"     `data: <delta>\n\n` — the default downstream format. The JSON
//             never holds a raw CR or LF (AppendJsonString escapes them), so
//             one `data:` line per event is always enough.
//   "ndjson"  `<delta>\n`, for clients that split on newlines.
//   "log"     `<delta>,` like "json" but one object per delta, never merged:
//             the resume log, where each delta has its own sequence number.
#include <memory>
#include <string_view>

#include "base/json_writer.h"
#include "encoders/delta_json.h"
#include "encoders/formats.h"

namespace llmrelay {

namespace {

enum class DeltaFraming : uint8_t { kJson, kSse, kNdjson };

class DeltaEncoder final : public Encoder {
 public:
  DeltaEncoder(DeltaFraming framing, EncoderRole role, bool merge_text)
      : framing_(framing), role_(role), merge_text_(merge_text) {
    switch (framing) {
      case DeltaFraming::kJson: suffix_ = ","; break;
      case DeltaFraming::kSse:
        prefix_ = "data: ";
        suffix_ = "\n\n";
        break;
      case DeltaFraming::kNdjson: suffix_ = "\n"; break;
    }
  }

  void Text(std::string& out, std::string_view text) override { TextLike(out, Open::kText, "text", text); }

  void Reasoning(std::string& out, std::string_view text) override {
    TextLike(out, Open::kReasoning, "reasoning", text);
  }

  void ToolCall(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                std::string_view arguments_delta) override {
    open_ = Open::kNone;
    out.append(prefix_);
    AppendToolCallDeltaJson(out, index, id, name, arguments_delta);
    out.append(suffix_);
  }

  void Usage(std::string& out, const UsageInfo& usage) override {
    open_ = Open::kNone;
    out.append(prefix_);
    AppendUsageDeltaJson(out, usage);
    out.append(suffix_);
  }

  void Finish(std::string& out, FinishReason reason, std::string_view raw) override {
    open_ = Open::kNone;
    out.append(prefix_);
    AppendFinishDeltaJson(out, reason, raw);
    out.append(suffix_);
  }

  void RawEvent(std::string& out, std::string_view event, std::string_view data, std::string_view id,
                bool has_id) override {
    open_ = Open::kNone;
    out.append(prefix_);
    AppendEventDeltaJson(out, event, data, id, has_id);
    out.append(suffix_);
  }

  void Data(std::string& out, std::string_view name, std::string_view data_json) override {
    open_ = Open::kNone;
    out.append(prefix_);
    AppendDataDeltaJson(out, name, data_json);
    out.append(suffix_);
  }

  bool sse_framed() const override { return framing_ == DeltaFraming::kSse; }

  void Done(std::string& out) override {
    if (role_ == EncoderRole::kRelayStep) return;  // the relay ends the message once
    switch (framing_) {
      case DeltaFraming::kJson: break;
      case DeltaFraming::kSse: out.append("data: [DONE]\n\n"); break;
      case DeltaFraming::kNdjson:
        out.append(R"({"type":"done"})"
                   "\n");
        break;
    }
  }

  void Error(std::string& out, const ErrorInfo& error) override {
    switch (framing_) {
      case DeltaFraming::kJson:
        // Object mode errors the JS stream with a RelayError instead.
        break;
      case DeltaFraming::kSse:
        // A named event, so a client that only listens for "message" events
        // (EventSource.onmessage) never mistakes the error for a delta.
        out.append("event: error\ndata: {");
        AppendErrorFieldsJson(out, error);
        out.append("}\n\n");
        break;
      case DeltaFraming::kNdjson:
        out.append(R"({"type":"error",)");
        AppendErrorFieldsJson(out, error);
        out.append("}\n");
        break;
    }
  }

 private:
  enum class Open : uint8_t { kNone, kText, kReasoning };

  // Object mode merges consecutive text (or reasoning) fragments of one
  // batch into one delta: they reach JavaScript in the same wakeup anyway,
  // and every delta object costs the reader a promise turn. The text is the
  // same; only the number of objects shrinks (done.metrics.deltas still
  // counts the provider's fragments). A batch is taken from `out` by a swap
  // that leaves it empty, and every other write goes through this encoder,
  // so "out still ends where the last text delta ended" means "same batch".
  void TextLike(std::string& out, Open kind, std::string_view type, std::string_view text) {
    if (merge_text_ && open_ == kind && !out.empty() && out.size() == open_end_) {
      out.resize(out.size() - 3);  // reopen the string: drop `"},`
      const size_t quote = out.size();
      AppendJsonString(out, text);
      out.erase(quote, 1);  // the opening quote of the appended string
      out.append("},");
      open_end_ = out.size();
      return;
    }
    out.append(prefix_);
    AppendTextDeltaJson(out, type, text);
    out.append(suffix_);
    if (merge_text_) {
      open_ = kind;
      open_end_ = out.size();
    }
  }

  Open open_ = Open::kNone;
  size_t open_end_ = 0;
  DeltaFraming framing_;
  EncoderRole role_;
  bool merge_text_;
  std::string_view prefix_;
  std::string_view suffix_;
};

}  // namespace

std::unique_ptr<Encoder> CreateJsonEncoder(const EncoderOptions& options) {
  return std::make_unique<DeltaEncoder>(DeltaFraming::kJson, options.role, true);
}

std::unique_ptr<Encoder> CreateLogEncoder(const EncoderOptions& options) {
  return std::make_unique<DeltaEncoder>(DeltaFraming::kJson, options.role, false);
}

std::unique_ptr<Encoder> CreateSseEncoder(const EncoderOptions& options) {
  return std::make_unique<DeltaEncoder>(DeltaFraming::kSse, options.role, false);
}

std::unique_ptr<Encoder> CreateNdjsonEncoder(const EncoderOptions& options) {
  return std::make_unique<DeltaEncoder>(DeltaFraming::kNdjson, options.role, false);
}

}  // namespace llmrelay

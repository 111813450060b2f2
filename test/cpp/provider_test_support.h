// Test helpers for the provider adapters: a DeltaSink that records what it is
// given (and flags contract violations), and a driver that replays bytes
// through the real SSE parser / NDJSON splitter into an adapter.
#ifndef LLMRELAY_TEST_CPP_PROVIDER_TEST_SUPPORT_H_
#define LLMRELAY_TEST_CPP_PROVIDER_TEST_SUPPORT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/delta.h"
#include "framing/ndjson_splitter.h"
#include "framing/sse_parser.h"
#include "providers/adapter.h"

namespace llmrelay {
namespace testing_support {

struct ToolCallRecord {
  std::string id;
  std::string name;
  std::string arguments;
  int fragments = 0;
};

struct RawEventRecord {
  std::string event;
  std::string data;
  std::string id;
  bool has_id = false;
};

// Records every delta. `log` keeps the order of kinds ("text", "usage",
// "finish", "end", ...) and `violations` collects breaches of the adapter
// contract: anything after an error, a second finish or end marker, a
// tool-call slot that skips ahead, an id or name that changes.
class RecordingSink final : public DeltaSink {
 public:
  void OnText(std::string_view text) override {
    Check("text");
    if (text.empty()) violations.push_back("empty text delta");
    this->text.append(text);
  }
  void OnReasoning(std::string_view text) override {
    Check("reasoning");
    if (text.empty()) violations.push_back("empty reasoning delta");
    reasoning.append(text);
  }
  void OnToolCall(uint32_t index, std::string_view id, std::string_view name,
                  std::string_view arguments_delta) override {
    Check("tool-call");
    if (index > tool_calls.size()) violations.push_back("tool-call slot skipped ahead");
    if (index >= tool_calls.size()) tool_calls.resize(index + 1);
    ToolCallRecord& call = tool_calls[index];
    if (!id.empty()) {
      if (!call.id.empty()) violations.push_back("tool-call id sent twice");
      call.id.assign(id);
    }
    if (!name.empty()) {
      if (!call.name.empty()) violations.push_back("tool-call name sent twice");
      call.name.assign(name);
    }
    call.arguments.append(arguments_delta);
    ++call.fragments;
  }
  void OnUsage(const UsageInfo& usage) override {
    Check("usage");
    ++usage_count;
    input_tokens = usage.input_tokens;
    output_tokens = usage.output_tokens;
    total_tokens = usage.total_tokens;
    usage_raw.assign(usage.raw_json);
  }
  // Not in `log`: the summary's running figure, not a delta.
  void OnPartialUsage(const UsageInfo& usage) override {
    if (error_count > 0) violations.push_back("partial usage after an error");
    ++partial_usage_count;
    partial_input_tokens = usage.input_tokens;
    partial_output_tokens = usage.output_tokens;
  }
  void OnFinish(FinishReason reason, std::string_view raw) override {
    Check("finish");
    if (finish_count > 0) violations.push_back("second finish");
    ++finish_count;
    finish = reason;
    finish_raw.assign(raw);
  }
  void OnRawEvent(std::string_view event, std::string_view data, std::string_view id, bool has_id) override {
    Check("event");
    events.push_back({std::string(event), std::string(data), std::string(id), has_id});
  }
  void OnProviderError(std::string_view type, std::string_view message) override {
    Check("provider-error");
    ++error_count;
    error_code = "PROVIDER_ERROR";
    error_type.assign(type);
    error_message.assign(message);
  }
  void OnProtocolError(std::string_view detail) override {
    Check("protocol-error");
    ++error_count;
    error_code = "PROTOCOL";
    error_message.assign(detail);
  }
  void OnEndMarker() override {
    Check("end");
    if (end_markers > 0) violations.push_back("second end marker");
    ++end_markers;
  }

  bool has_usage() const { return usage_count > 0; }
  bool has_finish() const { return finish_count > 0; }

  std::string text;
  std::string reasoning;
  std::vector<ToolCallRecord> tool_calls;
  int usage_count = 0;
  int64_t input_tokens = -1;
  int64_t output_tokens = -1;
  int64_t total_tokens = -1;
  std::string usage_raw;
  int partial_usage_count = 0;
  int64_t partial_input_tokens = -1;
  int64_t partial_output_tokens = -1;
  int finish_count = 0;
  FinishReason finish = FinishReason::kOther;
  std::string finish_raw;
  std::vector<RawEventRecord> events;
  int error_count = 0;
  std::string error_code;
  std::string error_type;
  std::string error_message;
  int end_markers = 0;
  std::vector<std::string> log;
  std::vector<std::string> violations;

 private:
  void Check(const char* kind) {
    if (error_count > 0) violations.push_back(std::string(kind) + " after an error");
    log.emplace_back(kind);
  }
};

// What a whole replay produced, with the TRUNCATED rule of the pipeline
// applied: a clean EOF without the end marker and without an error.
struct ReplayResult {
  RecordingSink sink;
  bool complete = false;
  std::string error_code;  // "", PROVIDER_ERROR, PROTOCOL, TRUNCATED
};

// Replays `bytes` through the framing the adapter asks for, split into
// reads of the given sizes (the rest goes in one last read).
inline ReplayResult Replay(std::string_view provider, std::string_view bytes, const std::vector<size_t>& chunk_sizes) {
  ReplayResult result;
  std::unique_ptr<Adapter> adapter = CreateAdapter(provider);
  if (!adapter) {
    result.error_code = "UNKNOWN_PROVIDER";
    return result;
  }
  struct Driver final : SseHandler, LineHandler {
    Driver(Adapter& a, DeltaSink& s) : adapter(a), sink(s) {}
    // Always keeps going: the adapter itself must ignore input after an error.
    bool OnSseEvent(const SseEvent& event) override {
      adapter.OnSseEvent(event, sink);
      return true;
    }
    bool OnLine(std::string_view line) override {
      adapter.OnLine(line, sink);
      return true;
    }
    Adapter& adapter;
    DeltaSink& sink;
  } driver(*adapter, result.sink);

  SseParser sse;
  NdjsonSplitter ndjson;
  const bool is_sse = adapter->framing() == Framing::kSse;
  size_t offset = 0;
  auto feed = [&](size_t n) {
    if (is_sse) {
      sse.Feed(bytes.data() + offset, n, driver);
    } else {
      ndjson.Feed(bytes.data() + offset, n, driver);
    }
    offset += n;
  };
  for (size_t size : chunk_sizes) {
    if (offset >= bytes.size()) break;
    feed(std::min(size, bytes.size() - offset));
  }
  if (offset < bytes.size()) feed(bytes.size() - offset);
  if (is_sse) {
    sse.Finish();
  } else {
    ndjson.Finish(driver);
  }
  adapter->OnEof(result.sink);
  result.complete = adapter->complete();
  result.error_code = result.sink.error_code;
  if (result.error_code.empty() && !result.complete) result.error_code = "TRUNCATED";
  return result;
}

}  // namespace testing_support
}  // namespace llmrelay

#endif  // LLMRELAY_TEST_CPP_PROVIDER_TEST_SUPPORT_H_

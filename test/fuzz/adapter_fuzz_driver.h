// Shared body of the provider adapter fuzz targets (<provider>_fuzz.cc).
//
// The input's first byte picks a mode and its next bytes a list of read
// sizes; the rest is the body:
//  - mode "framed": the body goes through the provider's real framing (SSE
//    parser or NDJSON splitter) into a fresh adapter twice, once whole and
//    once in the chosen reads; both runs must record the same deltas
//    (an adapter sees the same events however the bytes were split);
//  - mode "direct": the body is handed to the adapter as one event's data
//    (or one line), reaching the JSON handling without framing in the way.
// Every run must also keep the adapter contract: nothing after an error, at
// most one finish and one end marker, tool-call slots 0, 1, 2... without
// gaps, id and name at most once per slot, usage raw that is a JSON object,
// and (for gemini) re-serialized tool arguments that are valid JSON.
// A broken rule aborts, which libFuzzer reports with the input.
#ifndef LLMRELAY_TEST_FUZZ_ADAPTER_FUZZ_DRIVER_H_
#define LLMRELAY_TEST_FUZZ_ADAPTER_FUZZ_DRIVER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/delta.h"
#include "base/json_writer.h"
#include "framing/ndjson_splitter.h"
#include "framing/sse_parser.h"
#include "providers/adapter.h"
#include "providers/json_util.h"

namespace llmrelay {
namespace fuzz {

[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "adapter contract broken: %s\n", what);
  std::abort();
}

// Checked with the adapters' own parser: rapidjson::Document in 1.1.0 does
// pointer arithmetic on a null stack, which UBSan would report here.
inline bool IsJson(std::string_view text, bool object_only) {
  static EventJson json;  // one fuzz input at a time
  const JsonValue* root = object_only ? json.ParseObject(text) : json.Parse(text);
  return root != nullptr || json.too_deep();
}

// Records every delta into one log string (so two runs compare with ==) and
// checks the contract as the deltas arrive.
class CheckingSink final : public DeltaSink {
 public:
  explicit CheckingSink(bool whole_arguments) : whole_arguments_(whole_arguments) {}

  void OnText(std::string_view text) override { Add("text", text); }
  void OnReasoning(std::string_view text) override { Add("reasoning", text); }
  void OnToolCall(uint32_t index, std::string_view id, std::string_view name,
                  std::string_view arguments_delta) override {
    Add("tool", arguments_delta);
    if (index > slots_.size()) Fail("tool-call slot skipped ahead");
    if (index == slots_.size()) slots_.push_back(Slot{});
    Slot& slot = slots_[index];
    if (!id.empty() && slot.id_seen) Fail("tool-call id sent twice");
    if (!name.empty() && slot.name_seen) Fail("tool-call name sent twice");
    slot.id_seen = slot.id_seen || !id.empty();
    slot.name_seen = slot.name_seen || !name.empty();
    if (whole_arguments_ && !IsJson(arguments_delta, false)) {
      Fail("re-serialized tool arguments are not JSON");
    }
    AppendInt(log, index);
    log.append(id).push_back('|');
    log.append(name).push_back('|');
  }
  void OnUsage(const UsageInfo& usage) override {
    Add("usage", usage.raw_json);
    if (!IsJson(usage.raw_json, true)) Fail("usage raw_json is not a JSON object");
    AppendInt(log, usage.input_tokens);
    AppendInt(log, usage.output_tokens);
    AppendInt(log, usage.total_tokens);
  }
  void OnPartialUsage(const UsageInfo& usage) override {
    if (errored_) Fail("partial usage after an error");
    if (!IsJson(usage.raw_json, true)) Fail("partial usage raw_json is not a JSON object");
  }
  void OnFinish(FinishReason reason, std::string_view raw) override {
    if (finished_) Fail("second finish");
    finished_ = true;
    Add("finish", raw);
    log.append(FinishReasonName(reason));
  }
  void OnRawEvent(std::string_view event, std::string_view data, std::string_view id, bool has_id) override {
    Add("event", data);
    if (has_id != !id.empty()) Fail("has_id disagrees with id");
    log.append(event).push_back('|');
    log.append(id);
  }
  void OnProviderError(std::string_view type, std::string_view message) override {
    Add("provider-error", message);
    log.append(type);
    errored_ = true;
  }
  void OnProtocolError(std::string_view detail) override {
    Add("protocol-error", detail);
    if (detail.size() > 200) Fail("protocol error detail longer than its quote limit");
    errored_ = true;
  }
  void OnEndMarker() override {
    if (ended_) Fail("second end marker");
    ended_ = true;
    Add("end", {});
  }

  std::string log;

 private:
  struct Slot {
    bool id_seen = false;
    bool name_seen = false;
  };

  void Add(const char* kind, std::string_view payload) {
    if (errored_) Fail("delta after an error");
    log.push_back('\n');
    log.append(kind).push_back(':');
    log.append(payload).push_back('|');
  }

  bool whole_arguments_;
  std::vector<Slot> slots_;
  bool finished_ = false;
  bool ended_ = false;
  bool errored_ = false;
};

// Feeds `body` to a fresh adapter through its framing, in reads of the
// given sizes (cycled), and returns the log (plus whether it completed).
inline std::string RunFramed(std::string_view provider, std::string_view body, const std::vector<size_t>& reads,
                             bool whole_arguments) {
  std::unique_ptr<Adapter> adapter = CreateAdapter(provider);
  if (!adapter) Fail("unknown provider");
  CheckingSink sink(whole_arguments);
  struct Driver final : SseHandler, LineHandler {
    Driver(Adapter& a, DeltaSink& s) : adapter(a), sink(s) {}
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
  } driver(*adapter, sink);

  // A small limit so the fuzzer also meets it; the outcome must not depend
  // on the split either way.
  constexpr size_t kMaxEventBytes = 1 << 16;
  SseParser sse(kMaxEventBytes);
  NdjsonSplitter ndjson(kMaxEventBytes);
  const bool is_sse = adapter->framing() == Framing::kSse;
  bool limited = false;
  size_t offset = 0;
  for (size_t i = 0; offset < body.size(); ++i) {
    const size_t n = std::min(reads.empty() ? body.size() : reads[i % reads.size()], body.size() - offset);
    const FramingStatus status =
        is_sse ? sse.Feed(body.data() + offset, n, driver) : ndjson.Feed(body.data() + offset, n, driver);
    offset += n;
    if (status == FramingStatus::kLimit) {
      limited = true;
      break;
    }
  }
  if (!limited) {
    if (is_sse) {
      sse.Finish();
    } else if (ndjson.Finish(driver) == FramingStatus::kLimit) {
      limited = true;
    }
  }
  if (!limited) adapter->OnEof(sink);
  sink.log.append(limited ? "\nlimit" : "");
  sink.log.append(adapter->complete() ? "\ncomplete" : "\nopen");
  return sink.log;
}

inline int RunAdapterFuzz(std::string_view provider, const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // Gemini's args are always an object we re-serialize; Ollama passes a
  // string through untouched, so only Gemini's must be JSON.
  const bool whole_arguments = provider == "gemini";
  const uint8_t mode = data[0];
  ++data;
  --size;
  // Up to 8 read sizes of 1..32 bytes; a zero byte ends the list.
  std::vector<size_t> reads;
  while (size > 0 && reads.size() < 8 && data[0] != 0) {
    reads.push_back(1 + data[0] % 32);
    ++data;
    --size;
  }
  if (size > 0 && data[0] == 0) {
    ++data;
    --size;
  }
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (mode % 2 == 0) {
    const std::string whole = RunFramed(provider, body, {}, whole_arguments);
    const std::string split = RunFramed(provider, body, reads, whole_arguments);
    if (whole != split) Fail("deltas depend on how the bytes were split");
    return 0;
  }

  std::unique_ptr<Adapter> adapter = CreateAdapter(provider);
  CheckingSink sink(whole_arguments);
  if (adapter->framing() == Framing::kNdjson) {
    adapter->OnLine(body, sink);
  } else {
    static constexpr std::string_view kTypes[] = {"message", "error", "message_delta", "response.completed", "ping"};
    SseEvent event;
    event.type = kTypes[(mode / 2) % 5];
    event.data = body;
    event.id = (mode & 0x80) != 0 ? std::string_view("7") : std::string_view();
    adapter->OnSseEvent(event, sink);
    adapter->OnSseEvent(event, sink);  // a second one, after whatever state the first left
  }
  adapter->OnEof(sink);
  return 0;
}

}  // namespace fuzz
}  // namespace llmrelay

#endif  // LLMRELAY_TEST_FUZZ_ADAPTER_FUZZ_DRIVER_H_

// libFuzzer target for SseParser (built and run by scripts/fuzz.sh).
//
// The input's last bytes choose a size limit, a handler that may stop, and a
// list of read sizes; the rest is the stream. Checked on every input:
//  - the stream fed whole, fed in the fuzzer's reads and fed byte by byte
//    gives the same events, status, last event ID and retry (rule 16);
//  - with no limit hit and no stop, the events equal those of a deliberately
//    naive whole-input reading of the WHATWG rules (ReferenceParse below);
//  - every event respects the limit, has a type, and has an ID without NUL.
// A failed check aborts, which libFuzzer reports as a crash with the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framing/sse_parser.h"

namespace llmrelay {
namespace {

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event& other) const { return type == other.type && data == other.data && id == other.id; }
};

struct Outcome {
  std::vector<Event> events;
  FramingStatus status = FramingStatus::kOk;
  std::string last_event_id;
  int64_t retry_ms = -1;
  bool operator==(const Outcome& other) const {
    return events == other.events && status == other.status && last_event_id == other.last_event_id &&
           retry_ms == other.retry_ms;
  }
};

class Recorder : public SseHandler {
 public:
  explicit Recorder(size_t stop_after) : stop_after_(stop_after) {}
  bool OnSseEvent(const SseEvent& event) override {
    events.push_back({std::string(event.type), std::string(event.data), std::string(event.id)});
    return stop_after_ == 0 || events.size() < stop_after_;
  }
  std::vector<Event> events;

 private:
  size_t stop_after_;  // 0: never stop
};

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "sse_parser_fuzz: %s\n", what);
  std::abort();
}

// Feeds `stream` in reads of the given sizes, cycled (0 = an empty read).
Outcome Parse(std::string_view stream, const std::vector<size_t>& read_sizes, size_t max_event_bytes,
              size_t stop_after) {
  SseParser parser(max_event_bytes);
  Recorder recorder(stop_after);
  Outcome outcome;
  size_t at = 0;
  for (size_t i = 0; at < stream.size() && outcome.status == FramingStatus::kOk; ++i) {
    const size_t len = std::min(read_sizes[i % read_sizes.size()], stream.size() - at);
    outcome.status = parser.Feed(stream.data() + at, len, recorder);
    at += len;
  }
  parser.Finish();
  outcome.events = std::move(recorder.events);
  outcome.last_event_id = std::string(parser.last_event_id());
  outcome.retry_ms = parser.retry_ms();
  return outcome;
}

// The WHATWG rules read as literally as possible over the whole input, with
// no incremental state: an independent oracle for the incremental parser.
Outcome ReferenceParse(std::string_view stream) {
  Outcome outcome;
  if (stream.substr(0, 3) == "\xEF\xBB\xBF") stream.remove_prefix(3);
  std::string data, type, id_buffer;
  size_t start = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (stream[i] != '\r' && stream[i] != '\n') continue;
    const std::string_view line = stream.substr(start, i - start);
    if (stream[i] == '\r' && i + 1 < stream.size() && stream[i + 1] == '\n') ++i;
    start = i + 1;

    if (line.empty()) {
      outcome.last_event_id = id_buffer;
      if (!data.empty()) {
        data.pop_back();
        outcome.events.push_back({type.empty() ? "message" : type, data, id_buffer});
      }
      data.clear();
      type.clear();
      continue;
    }
    if (line[0] == ':') continue;
    const size_t colon = line.find(':');
    const std::string name(line.substr(0, colon));
    std::string value(colon == std::string_view::npos ? "" : line.substr(colon + 1));
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (name == "data") {
      data += value + "\n";
    } else if (name == "event") {
      type = value;
    } else if (name == "id") {
      if (value.find('\0') == std::string::npos) id_buffer = value;
    } else if (name == "retry") {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        // Saturate like the parser: compare as decimal strings.
        const std::string max = std::to_string(std::numeric_limits<int64_t>::max());
        const size_t digits = value.find_first_not_of('0');
        const std::string trimmed = digits == std::string::npos ? "0" : value.substr(digits);
        const bool too_big = trimmed.size() > max.size() || (trimmed.size() == max.size() && trimmed > max);
        outcome.retry_ms = too_big ? std::numeric_limits<int64_t>::max() : std::stoll(trimmed);
      }
    }
  }
  return outcome;  // an unterminated last line and an undispatched event are dropped
}

}  // namespace
}  // namespace llmrelay

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using llmrelay::FramingStatus;
  using llmrelay::SseParser;
  FuzzedDataProvider provider(data, size);
  // FuzzedDataProvider takes integers from the end of the input, so the
  // stream keeps its bytes at the front, where mutations are most readable.
  const size_t max_event_bytes =
      provider.ConsumeBool() ? SseParser::kDefaultMaxEventBytes : provider.ConsumeIntegralInRange<size_t>(0, 64);
  const size_t stop_after = provider.ConsumeIntegralInRange<size_t>(0, 4);
  std::vector<size_t> read_sizes(provider.ConsumeIntegralInRange<size_t>(1, 16));
  size_t total = 0;
  for (size_t& read_size : read_sizes) {
    read_size = provider.ConsumeIntegralInRange<size_t>(0, 32);
    total += read_size;
  }
  if (total == 0) read_sizes.push_back(1);  // guarantee progress
  const std::string stream = provider.ConsumeRemainingBytesAsString();

  const auto whole = llmrelay::Parse(stream, {stream.size() + 1}, max_event_bytes, stop_after);
  const auto chunked = llmrelay::Parse(stream, read_sizes, max_event_bytes, stop_after);
  const auto bytewise = llmrelay::Parse(stream, {1}, max_event_bytes, stop_after);
  llmrelay::Check(chunked == whole, "fuzzer-chosen reads differ from one read");
  llmrelay::Check(bytewise == whole, "1-byte reads differ from one read");

  for (const auto& event : whole.events) {
    llmrelay::Check(event.data.size() < max_event_bytes, "event data over the limit");
    llmrelay::Check(!event.type.empty(), "event without a type");
    llmrelay::Check(event.id.find('\0') == std::string::npos, "event ID with NUL");
  }
  if (whole.status == FramingStatus::kOk) {
    llmrelay::Check(whole == llmrelay::ReferenceParse(stream), "differs from the reference");
  }
  return 0;
}

// libFuzzer target for NdjsonSplitter (built and run by scripts/fuzz.sh).
//
// The input's last bytes choose a line limit, a handler that may stop, and a
// list of read sizes; the rest is the stream. Checked on every input:
//  - the stream fed whole, fed in the fuzzer's reads and fed byte by byte
//    gives the same lines and status;
//  - with no limit hit and no stop, the lines equal a naive whole-input split
//    (ReferenceSplit below);
//  - no delivered line is blank, holds an LF, or exceeds the limit.
// A failed check aborts, which libFuzzer reports as a crash with the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framing/ndjson_splitter.h"

namespace llmrelay {
namespace {

struct Outcome {
  std::vector<std::string> lines;
  FramingStatus status = FramingStatus::kOk;
  bool operator==(const Outcome& other) const { return lines == other.lines && status == other.status; }
};

class Recorder : public LineHandler {
 public:
  explicit Recorder(size_t stop_after) : stop_after_(stop_after) {}
  bool OnLine(std::string_view line) override {
    lines.emplace_back(line);
    return stop_after_ == 0 || lines.size() < stop_after_;
  }
  std::vector<std::string> lines;

 private:
  size_t stop_after_;  // 0: never stop
};

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "ndjson_fuzz: %s\n", what);
  std::abort();
}

// Feeds `stream` in reads of the given sizes, cycled (0 = an empty read).
Outcome Split(std::string_view stream, const std::vector<size_t>& read_sizes, size_t max_line_bytes,
              size_t stop_after) {
  NdjsonSplitter splitter(max_line_bytes);
  Recorder recorder(stop_after);
  Outcome outcome;
  size_t at = 0;
  for (size_t i = 0; at < stream.size() && outcome.status == FramingStatus::kOk; ++i) {
    const size_t len = std::min(read_sizes[i % read_sizes.size()], stream.size() - at);
    outcome.status = splitter.Feed(stream.data() + at, len, recorder);
    at += len;
  }
  if (outcome.status == FramingStatus::kOk) outcome.status = splitter.Finish(recorder);
  outcome.lines = std::move(recorder.lines);
  return outcome;
}

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Split on every LF, drop one CR before it, keep the non-blank lines; the
// text after the last LF counts as a line too.
Outcome ReferenceSplit(std::string_view stream) {
  Outcome outcome;
  size_t start = 0;
  while (start <= stream.size()) {
    size_t end = stream.find('\n', start);
    if (end == std::string_view::npos) end = stream.size();
    std::string_view line = stream.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!IsBlank(line)) outcome.lines.emplace_back(line);
    start = end + 1;
  }
  return outcome;
}

}  // namespace
}  // namespace llmrelay

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using llmrelay::FramingStatus;
  using llmrelay::SseParser;
  FuzzedDataProvider provider(data, size);
  // FuzzedDataProvider takes integers from the end of the input, so the
  // stream keeps its bytes at the front, where mutations are most readable.
  const size_t max_line_bytes =
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

  const auto whole = llmrelay::Split(stream, {stream.size() + 1}, max_line_bytes, stop_after);
  const auto chunked = llmrelay::Split(stream, read_sizes, max_line_bytes, stop_after);
  const auto bytewise = llmrelay::Split(stream, {1}, max_line_bytes, stop_after);
  llmrelay::Check(chunked == whole, "fuzzer-chosen reads differ from one read");
  llmrelay::Check(bytewise == whole, "1-byte reads differ from one read");

  for (const std::string& line : whole.lines) {
    llmrelay::Check(!llmrelay::IsBlank(line), "blank line delivered");
    llmrelay::Check(line.find('\n') == std::string::npos, "line holds an LF");
    llmrelay::Check(line.size() <= max_line_bytes, "line over the limit");
  }
  if (whole.status == FramingStatus::kOk) {
    llmrelay::Check(whole == llmrelay::ReferenceSplit(stream), "differs from the reference");
  }
  return 0;
}

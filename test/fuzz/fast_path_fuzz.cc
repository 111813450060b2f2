// libFuzzer target (built and run by scripts/fuzz.sh): the adapters' fast
// paths (src/providers/fast_paths.h) against the full parse. The "openai"
// and "anthropic" adapters run with and without their fast paths on the
// same input; the deltas they record must be the same, byte for byte, and
// each run keeps the adapter contract (adapter_fuzz_driver.h's checks).
//
// The input's first byte picks the provider, the mode and the event type:
//  - mode "direct": the rest is one event's data, given twice (the second
//    after whatever state the first left), then the end of the body;
//  - mode "framed": the rest is a body, through the SSE parser.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapter_fuzz_driver.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace fuzz {
namespace {

struct Emit final : SseHandler {
  Emit(Adapter& a, DeltaSink& s) : adapter(a), sink(s) {}
  bool OnSseEvent(const SseEvent& event) override {
    adapter.OnSseEvent(event, sink);
    return true;
  }
  Adapter& adapter;
  DeltaSink& sink;
};

std::string Run(std::unique_ptr<Adapter> adapter, bool framed, std::string_view type, std::string_view body) {
  CheckingSink sink(false);
  if (framed) {
    Emit emit(*adapter, sink);
    SseParser parser(size_t{1} << 16);
    if (parser.Feed(body.data(), body.size(), emit) == FramingStatus::kLimit) sink.log.append("\nlimit");
    parser.Finish();
  } else {
    SseEvent event;
    event.type = type;
    event.data = body;
    adapter->OnSseEvent(event, sink);
    adapter->OnSseEvent(event, sink);
  }
  adapter->OnEof(sink);
  sink.log.append(adapter->complete() ? "\ncomplete" : "\nopen");
  return sink.log;
}

}  // namespace
}  // namespace fuzz
}  // namespace llmrelay

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace llmrelay;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  static constexpr std::string_view kTypes[] = {"message", "error", "content_block_delta", "ping"};
  const bool anthropic = (mode & 1) != 0;
  const bool framed = (mode & 2) != 0;
  const std::string_view type = kTypes[(mode >> 2) % 4];
  const std::string fast = fuzz::Run(anthropic ? MakeAnthropicAdapter() : MakeOpenAiChatAdapter(), framed, type, body);
  const std::string full =
      fuzz::Run(anthropic ? MakeAnthropicAdapterFullParse() : MakeOpenAiChatAdapterFullParse(), framed, type, body);
  if (fast != full) fuzz::Fail("the fast path and the full parse disagree");
  return 0;
}

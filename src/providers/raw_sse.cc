// Provider "sse": any event stream, relayed event by event without looking
// inside the data. Arbitrary SSE has no end marker, so a clean EOF is a
// complete stream.
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

class RawSseAdapter final : public Adapter {
 public:
  Framing framing() const override { return Framing::kSse; }

  // Runs on the worker thread.
  void OnSseEvent(const SseEvent& event, DeltaSink& sink) override {
    sink.OnRawEvent(event.type, event.data, event.id, !event.id.empty());
  }

  bool complete() const override { return true; }
};

}  // namespace

std::unique_ptr<Adapter> MakeRawSseAdapter() { return std::make_unique<RawSseAdapter>(); }

}  // namespace llmrelay

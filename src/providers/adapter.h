// One adapter per provider turns the provider's framed events (SSE events or
// NDJSON lines) into normalized deltas. Adapters hold per-request state
// (tool-call slots, usage so far) and are created fresh for every attempt.
#ifndef LLMRELAY_PROVIDERS_ADAPTER_H_
#define LLMRELAY_PROVIDERS_ADAPTER_H_

#include <memory>
#include <string_view>
#include <vector>

#include "base/delta.h"
#include "framing/sse_parser.h"

namespace llmrelay {

enum class Framing : uint8_t { kSse, kNdjson };

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual Framing framing() const = 0;
  // Framing kSse: one dispatched event. Runs on the worker thread.
  virtual void OnSseEvent(const SseEvent& event, DeltaSink& sink) { (void)event, (void)sink; }
  // Framing kNdjson: one line. Runs on the worker thread.
  virtual void OnLine(std::string_view line, DeltaSink& sink) { (void)line, (void)sink; }
  // Called once at a clean end of the body, before the pipeline checks
  // complete(); adapters that hold back a last usage report emit it here.
  virtual void OnEof(DeltaSink& sink) { (void)sink; }
  // True once the provider's end marker was seen (OnEndMarker was called).
  virtual bool complete() const = 0;
};

// Creates the adapter for a provider name ("openai", "openai-responses",
// "anthropic", "gemini", "ollama", "sse"); nullptr for an unknown name.
std::unique_ptr<Adapter> CreateAdapter(std::string_view provider);

// The provider names CreateAdapter knows, in the table's order.
std::vector<std::string_view> ProviderNames();

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_ADAPTER_H_

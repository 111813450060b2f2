// Downstream encoders turn normalized deltas into the bytes a browser reads.
// They run on the worker thread and append to a caller-owned buffer, so a
// batch of deltas becomes one contiguous string with no per-token allocation
// once the buffer has grown.
#ifndef LLMRELAY_ENCODERS_ENCODER_H_
#define LLMRELAY_ENCODERS_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/delta.h"

namespace llmrelay {

// What an in-band error tells the client, in every format that can carry
// one. The views are valid for the duration of the call.
struct ErrorInfo {
  std::string_view code;        // RelayError code, e.g. "TIMEOUT_IDLE"
  std::string_view message;     // ours or the provider's stream error text, never an HTTP error body
  int64_t status = 0;           // the provider's HTTP status (HTTP_STATUS only); 0: none
  int64_t retry_after_ms = -1;  // the provider's Retry-After hint in ms; -1: none
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Bytes sent before the first delta (e.g. the ui-message "start" part; in
  // a relay step, only what opens a step).
  virtual void Start(std::string& out) { (void)out; }
  virtual void Text(std::string& out, std::string_view text) = 0;
  virtual void Reasoning(std::string& out, std::string_view text) = 0;
  virtual void ToolCall(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                        std::string_view arguments_delta) = 0;
  virtual void Usage(std::string& out, const UsageInfo& usage) = 0;
  virtual void Finish(std::string& out, FinishReason reason, std::string_view raw) = 0;
  virtual void RawEvent(std::string& out, std::string_view event, std::string_view data, std::string_view id,
                        bool has_id) = 0;
  // An app event of a multi-step relay: {type:'data', name, data}, with
  // `data_json` compact JSON. Formats that cannot carry one write nothing.
  virtual void Data(std::string& out, std::string_view name, std::string_view data_json) = 0;
  // Successful end of the stream (e.g. "data: [DONE]\n\n"); in a relay step,
  // only what closes the step.
  virtual void Done(std::string& out) = 0;
  // The stream failed.
  virtual void Error(std::string& out, const ErrorInfo& error) = 0;
  // Every write of an SSE-based format ends with a blank line, so an event
  // id can be appended to the last event of each delta (resumable relays).
  virtual bool sse_framed() const { return false; }
};

// What an encoder writes in a multi-step relay (createRelay): the response
// is one message made of steps. kWhole is a single stream's whole message.
enum class EncoderRole : uint8_t {
  kWhole,
  kRelayOuter,  // the message's start, app data events, its finish and end: no step
  kRelayStep,   // one forwarded stream: only its step, no message start or end
};

struct EncoderOptions {
  std::string id;       // response id for formats that carry one ("chatcmpl-…", messageId)
  std::string model;    // model name echoed by the 'openai' format
  int64_t created = 0;  // unix seconds for the 'openai' format
  EncoderRole role = EncoderRole::kWhole;
};

// Formats: "json" (object mode: comma-terminated Delta JSON objects, parsed
// by lib/ as one array per batch), "sse", "openai", "ndjson", "text",
// "ui-message". nullptr for an unknown name.
std::unique_ptr<Encoder> CreateEncoder(std::string_view format, const EncoderOptions& options);

// The format names CreateEncoder knows, in the table's order.
std::vector<std::string_view> FormatNames();

}  // namespace llmrelay

#endif  // LLMRELAY_ENCODERS_ENCODER_H_

// "text": the answer's text as raw UTF-8 bytes (Content-Type: text/plain),
// for clients that only want to append what arrives. Reasoning, tool calls,
// usage, finish and raw events have no place in plain text and are dropped.
// Done and Error write nothing: the JS relay ends the response on success and
// destroys it on error, so a client sees a truncated transfer (a chunked body
// without its terminating chunk) rather than error prose mixed into the answer.
#include <memory>
#include <string_view>

#include "base/utf8.h"
#include "encoders/formats.h"

namespace llmrelay {

namespace {

class TextEncoder final : public Encoder {
 public:
  void Text(std::string& out, std::string_view text) override { AppendValidUtf8(out, text); }
  void Reasoning(std::string& /*out*/, std::string_view /*text*/) override {}
  void ToolCall(std::string& /*out*/, uint32_t /*index*/, std::string_view /*id*/, std::string_view /*name*/,
                std::string_view /*arguments_delta*/) override {}
  void Usage(std::string& /*out*/, const UsageInfo& /*usage*/) override {}
  void Finish(std::string& /*out*/, FinishReason /*reason*/, std::string_view /*raw*/) override {}
  void RawEvent(std::string& /*out*/, std::string_view /*event*/, std::string_view /*data*/, std::string_view /*id*/,
                bool /*has_id*/) override {}
  void Data(std::string& /*out*/, std::string_view /*name*/, std::string_view /*data_json*/) override {}
  void Done(std::string& /*out*/) override {}
  void Error(std::string& /*out*/, const ErrorInfo& /*error*/) override {}
};

}  // namespace

std::unique_ptr<Encoder> CreateTextEncoder(const EncoderOptions& /*options*/) {
  return std::make_unique<TextEncoder>();
}

}  // namespace llmrelay

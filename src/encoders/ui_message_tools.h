// The tool-call parts of the "ui-message" format (ui_message_encoder.cc):
// tool-input-start, tool-input-delta, and at the end of the step
// tool-input-available with the arguments as a JSON value.
//
// The trap: a model may stream arguments that are not JSON; those become
// tool-input-error, which carries the raw string instead. Arguments are
// re-serialized compactly rather than copied, because a pretty-printed
// argument string holds raw newlines that would split the SSE `data:` line.
//
// Private to src/encoders/. Pure: runs wherever its encoder runs (the worker
// thread, or the main thread for native.Encoder).
#ifndef LLMRELAY_ENCODERS_UI_MESSAGE_TOOLS_H_
#define LLMRELAY_ENCODERS_UI_MESSAGE_TOOLS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace llmrelay {

// One tool call of the current step. The arguments are kept whole because
// tool-input-available needs them parsed at the end.
struct UiToolSlot {
  uint32_t index = 0;
  std::string id;
  std::string name;
  std::string arguments;
  bool started = false;  // tool-input-start was sent
};

// tool-input-start. A call the provider sent no id for gets one first:
// "<message_id>-call-<index>", or "call-<index>" without a message id.
void AppendToolInputStart(std::string& out, UiToolSlot& slot, std::string_view message_id);

void AppendToolInputDelta(std::string& out, const UiToolSlot& slot, std::string_view delta);

// tool-input-available with the arguments parsed, or tool-input-error with
// the raw arguments and why they are not JSON. `scratch` holds that text.
void AppendToolInputFinal(std::string& out, const UiToolSlot& slot, std::string& scratch);

}  // namespace llmrelay

#endif  // LLMRELAY_ENCODERS_UI_MESSAGE_TOOLS_H_

// new native.Encoder(format, options): a downstream encoder for the main
// thread, for what JavaScript writes itself in a format the worker would
// otherwise encode: a resumed reader's replay of the log, and the parts of a
// multi-step relay between its steps (its start, app data events, its end).
// One encoder implementation serves the worker and these.
#ifndef LLMRELAY_BINDING_ENCODER_OBJECT_H_
#define LLMRELAY_BINDING_ENCODER_OBJECT_H_

#include <napi.h>

namespace llmrelay {

// Adds the Encoder class to `exports`.
void InitEncoderObject(Napi::Env env, Napi::Object exports);

}  // namespace llmrelay

#endif  // LLMRELAY_BINDING_ENCODER_OBJECT_H_

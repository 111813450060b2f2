// One factory per downstream format; encoder.cc maps names to them. Private
// to src/encoders/: adding a format touches its own file, this list and the
// table in encoder.cc.
#ifndef LLMRELAY_ENCODERS_FORMATS_H_
#define LLMRELAY_ENCODERS_FORMATS_H_

#include <memory>

#include "encoders/encoder.h"

namespace llmrelay {

std::unique_ptr<Encoder> CreateJsonEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateLogEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateSseEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateNdjsonEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateTextEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateOpenAiEncoder(const EncoderOptions& options);
std::unique_ptr<Encoder> CreateUiMessageEncoder(const EncoderOptions& options);

}  // namespace llmrelay

#endif  // LLMRELAY_ENCODERS_FORMATS_H_

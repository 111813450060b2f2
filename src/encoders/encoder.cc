#include "encoders/encoder.h"

#include "encoders/formats.h"

namespace llmrelay {

namespace {

struct FormatEntry {
  std::string_view name;
  std::unique_ptr<Encoder> (*create)(const EncoderOptions& options);
};

constexpr FormatEntry kFormats[] = {
    {"json", CreateJsonEncoder},
    {"log", CreateLogEncoder},
    {"sse", CreateSseEncoder},
    {"openai", CreateOpenAiEncoder},
    {"ndjson", CreateNdjsonEncoder},
    {"text", CreateTextEncoder},
    {"ui-message", CreateUiMessageEncoder},
};

}  // namespace

std::vector<std::string_view> FormatNames() {
  std::vector<std::string_view> names;
  for (const FormatEntry& entry : kFormats) {
    if (entry.name != "log") names.push_back(entry.name);  // internal: the resume log's
  }
  return names;
}

std::unique_ptr<Encoder> CreateEncoder(std::string_view format, const EncoderOptions& options) {
  for (const FormatEntry& entry : kFormats) {
    if (entry.name == format) return entry.create(options);
  }
  return nullptr;
}

}  // namespace llmrelay

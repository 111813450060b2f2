// The adapters' fast paths: the event shapes that make up nearly every byte
// of a stream, read straight off the text (providers/json_scan.h) instead of
// through a parsed tree. Each says true only when the event is exactly such
// a shape and nothing else the adapter acts on is in it, and then its result
// is what the full parse would make of the event; for anything else it says
// false and the adapter parses the event in full (which decides, errors
// included). test/cpp/fast_paths_test.cc and test/fuzz/fast_path_fuzz.cc
// hold them to the full parse.
#ifndef LLMRELAY_PROVIDERS_FAST_PATHS_H_
#define LLMRELAY_PROVIDERS_FAST_PATHS_H_

#include <string>
#include <string_view>

namespace llmrelay {

// OpenAI chat.completion.chunk with one choice (index 0) whose delta has at
// most `content` text:
//   {"id":…,"choices":[{"index":0,"delta":{"content":"…"},"logprobs":null,
//    "finish_reason":null}],"usage":null,…}
// `*content` is the decoded text (may be empty: nothing to emit), a view
// into `data` or, when it had escapes, into `scratch`. The keys the adapter
// reads may each appear once: `error`, `usage`, `x_groq`, `tool_calls` and
// `function_call` only as null; `refusal`, `reasoning_content`, `reasoning`
// and `finish_reason` as null or ""; `object` as anything but "error". The
// caller leaves events of type "error" to the full parse.
bool ScanOpenAiContentChunk(std::string_view data, std::string& scratch, std::string_view* content);

// Anthropic's content_block_delta with a text_delta (or thinking_delta), and
// the events that carry nothing (ping, content_block_stop):
//   {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"…"}}
struct AnthropicHotEvent {
  enum Kind { kNothing, kText, kThinking };
  Kind kind = kNothing;
  std::string_view text;  // kText, kThinking: the decoded text (may be empty)
};
bool ScanAnthropicHotEvent(std::string_view data, std::string_view event_type, std::string& scratch,
                           AnthropicHotEvent* hot);

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_FAST_PATHS_H_

// The adapter constructors that src/providers/registry.cc maps provider names
// to. Each lives in its own file (openai.cc, anthropic.cc, ...).
#ifndef LLMRELAY_PROVIDERS_PROVIDER_ADAPTERS_H_
#define LLMRELAY_PROVIDERS_PROVIDER_ADAPTERS_H_

#include <memory>

#include "providers/adapter.h"

namespace llmrelay {

// "openai": Chat Completions, legacy Completions and OpenAI-compatible hosts.
std::unique_ptr<Adapter> MakeOpenAiChatAdapter();
// "openai-responses": the Responses API event stream.
std::unique_ptr<Adapter> MakeOpenAiResponsesAdapter();
// "anthropic": the Messages API event stream.
std::unique_ptr<Adapter> MakeAnthropicAdapter();
// "gemini": streamGenerateContent with alt=sse.
std::unique_ptr<Adapter> MakeGeminiAdapter();
// "ollama": native /api/chat and /api/generate NDJSON.
std::unique_ptr<Adapter> MakeOllamaAdapter();
// "sse": any event stream, passed through as raw events.
std::unique_ptr<Adapter> MakeRawSseAdapter();

// "openai" and "anthropic" without their fast paths (json_scan.h): every
// event takes the full parse. The tests and the differential fuzz target
// hold the fast paths to these.
std::unique_ptr<Adapter> MakeOpenAiChatAdapterFullParse();
std::unique_ptr<Adapter> MakeAnthropicAdapterFullParse();

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_PROVIDER_ADAPTERS_H_

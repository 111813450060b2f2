// The one table from provider names to adapters. Adding a provider touches
// its own file, provider_adapters.h and this table, nothing else.
#include <array>
#include <vector>

#include "providers/adapter.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

struct ProviderEntry {
  std::string_view name;
  std::unique_ptr<Adapter> (*make)();
};

constexpr std::array<ProviderEntry, 6> kProviders = {{
    {"openai", &MakeOpenAiChatAdapter},
    {"openai-responses", &MakeOpenAiResponsesAdapter},
    {"anthropic", &MakeAnthropicAdapter},
    {"gemini", &MakeGeminiAdapter},
    {"ollama", &MakeOllamaAdapter},
    {"sse", &MakeRawSseAdapter},
}};

}  // namespace

std::unique_ptr<Adapter> CreateAdapter(std::string_view provider) {
  for (const ProviderEntry& entry : kProviders) {
    if (entry.name == provider) return entry.make();
  }
  return nullptr;
}

std::vector<std::string_view> ProviderNames() {
  std::vector<std::string_view> names;
  names.reserve(kProviders.size());
  for (const ProviderEntry& entry : kProviders) names.push_back(entry.name);
  return names;
}

}  // namespace llmrelay

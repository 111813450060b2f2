// Keeps credentials out of what a failed stream reports: the error record
// JavaScript turns into a RelayError (message, the provider's error body and
// headers) and the in-band error event a relay sends to the browser. The
// secrets of a stream (its API key, the values of its credential headers, a
// key= query value, each in the forms a provider may echo it in) come from
// JavaScript once, with the stream's config (lib/redact.js).
#ifndef LLMRELAY_BASE_REDACT_H_
#define LLMRELAY_BASE_REDACT_H_

#include <string>
#include <string_view>
#include <vector>

namespace llmrelay {

inline constexpr std::string_view kRedacted = "[redacted]";

// Replaces every occurrence of every secret in `text` with "[redacted]",
// longer secrets first (one may contain another). Empty secrets are ignored.
// Pure and allocation-free when nothing matches, which is the common case.
void RedactSecrets(std::string& text, const std::vector<std::string>& secrets);

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_REDACT_H_

// UTF-8 validation with the WHATWG decoder's replacement rule: every
// maximal ill-formed subsequence becomes one U+FFFD. That is what V8 does
// when the same bytes become a JavaScript string, so bytes the worker writes
// to a client and deltas JavaScript reads agree character for character.
// Provider JSON is parsed without encoding validation (it costs a pass over
// every string), so a provider's stray byte reaches these writers; what the
// relay sends must be valid UTF-8 for strict decoders downstream.
#ifndef LLMRELAY_BASE_UTF8_H_
#define LLMRELAY_BASE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace llmrelay {

// The length of the well-formed UTF-8 sequence starting at s[0] (1 to 4),
// or 0 when s[0] starts an ill-formed one; `*skip` then receives the length
// of its maximal subpart (at least 1), which one U+FFFD replaces.
size_t Utf8SequenceLength(std::string_view s, size_t* skip);

// Appends `s`, each maximal ill-formed subsequence replaced by U+FFFD.
void AppendValidUtf8(std::string& out, std::string_view s);

// The replacement character, UTF-8 encoded.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_UTF8_H_

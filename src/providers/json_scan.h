// A forward-only reader over one event's JSON text, for the adapters' fast
// paths (providers/fast_paths.h): the few event shapes that make up nearly
// every byte of a stream are read straight off the text, with no tree.
//
// It accepts a strict subset of what EventJson (RapidJSON) accepts and says
// "unusual" (false) for everything else, so the caller falls back to the
// full parse, which then decides (and reports any error) as it always did.
// Outside the subset, deliberately: keys with escapes where the caller
// reads keys, numbers with an exponent, more than 18 integer digits or more
// than 20 fraction digits, \u escapes of surrogates, nesting deeper than
// kMaxDepth. Inside it, a value means what RapidJSON makes of it: the same
// string bytes (escapes decoded, other bytes as they are, UTF-8 unchecked
// as RapidJSON leaves it), the same rejections (raw control characters, a
// NUL, bad escapes, trailing bytes).
//
// Everything here is inline: it runs for nearly every event, ~30 tokens
// each, and a call per token would cost as much as the token.
#ifndef LLMRELAY_PROVIDERS_JSON_SCAN_H_
#define LLMRELAY_PROVIDERS_JSON_SCAN_H_

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstddef>
#include <string>
#include <string_view>

namespace llmrelay {

// Decodes the escapes of a JSON string body (between its quotes) into `out`
// (unless null: then only checks them), as RapidJSON does; false for a bad
// escape and for what JsonScan leaves to the full parse (surrogates).
bool DecodeJsonEscapes(std::string_view raw, std::string* out);

class JsonScan {
 public:
  static constexpr int kMaxDepth = 16;

  explicit JsonScan(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  // What comes next in an object being read.
  enum class Next : unsigned char { kMember, kEnd, kUnusual };

  // `c` (after whitespace) comes next, and is consumed: '{', '[', ']'.
  bool Take(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // The next member of the object begun last at this level: its key (no
  // escapes) and the ':' after it, leaving the value next; kEnd after its
  // '}'. `first` is true until the first call for this object returns.
  Next NextMember(bool& first, std::string_view* key) {
    SkipSpace();
    if (p_ == end_) return Next::kUnusual;
    if (*p_ == '}') {
      ++p_;
      return Next::kEnd;
    }
    if (!first) {
      if (*p_ != ',') return Next::kUnusual;
      ++p_;
      SkipSpace();
    }
    first = false;
    if (p_ == end_ || *p_ != '"') return Next::kUnusual;
    ++p_;
    bool escaped = false;
    if (!ScanString(key, &escaped) || escaped || !Take(':')) return Next::kUnusual;
    return Next::kMember;
  }

  // A string value, decoded; a view into the text when it has no escape,
  // else into `scratch`.
  bool String(std::string_view* out, std::string& scratch) {
    if (!Take('"')) return false;
    std::string_view raw;
    bool escaped = false;
    if (!ScanString(&raw, &escaped)) return false;
    if (!escaped) {
      *out = raw;
      return true;
    }
    scratch.clear();
    if (!DecodeJsonEscapes(raw, &scratch)) return false;
    *out = scratch;
    return true;
  }

  // A string value without escapes (a view into the text).
  bool PlainString(std::string_view* out) {
    if (!Take('"')) return false;
    bool escaped = false;
    return ScanString(out, &escaped) && !escaped;
  }

  // True (and consumed) when the next value is null.
  bool TakeNull() {
    SkipSpace();
    if (end_ - p_ < 4 || p_[0] != 'n' || p_[1] != 'u' || p_[2] != 'l' || p_[3] != 'l') return false;
    p_ += 4;
    return true;
  }

  // True (and consumed) when the next value is exactly the number 0.
  bool TakeZero() {
    SkipSpace();
    if (p_ == end_ || *p_ != '0') return false;
    const char* next = p_ + 1;
    if (next < end_ && ((*next >= '0' && *next <= '9') || *next == '.' || *next == 'e' || *next == 'E')) return false;
    p_ = next;
    return true;
  }

  // Skips any value in the subset.
  bool Skip() { return SkipValue(0); }

  // Nothing but whitespace is left.
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }

  // The next non-whitespace character, or '\0' at the end.
  char Peek() {
    SkipSpace();
    return p_ < end_ ? *p_ : '\0';
  }

 private:
  void SkipSpace() {
    // Whitespace is rare in these events: one compare rules it out.
    while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  // The first '"', '\\' or control character (< 0x20) at or after `p`, or end.
  static const char* FindStringStop(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1F);
    for (; end - p >= 16; p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
      // unsigned v <= 0x1F exactly when max(v, 0x1F) == 0x1F
      hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
      const int mask = _mm_movemask_epi8(hit);
      if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
#endif
    for (; p < end; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\' || c < 0x20) return p;
    }
    return end;
  }

  // After the opening quote: finds the closing one. `escaped` tells whether
  // a backslash came on the way; false for a raw control character.
  bool ScanString(std::string_view* raw, bool* escaped) {
    const char* const start = p_;
    const char* p = p_;
    for (;;) {
      p = FindStringStop(p, end_);
      if (p == end_ || static_cast<unsigned char>(*p) < 0x20) return false;
      if (*p == '"') break;
      // A backslash: the next byte is escaped (DecodeJsonEscapes checks it).
      *escaped = true;
      if (end_ - p < 2) return false;
      p += 2;
    }
    *raw = std::string_view(start, static_cast<size_t>(p - start));
    p_ = p + 1;
    return true;
  }

  bool SkipNumber() {
    const char* p = p_;
    if (p < end_ && *p == '-') ++p;
    if (p == end_ || *p < '0' || *p > '9') return false;
    if (*p == '0') {
      ++p;
    } else {
      const char* digits = p;
      while (p < end_ && *p >= '0' && *p <= '9') ++p;
      if (p - digits > 18) return false;  // past int64: RapidJSON's double path
    }
    if (p < end_ && *p == '.') {
      ++p;
      const char* digits = p;
      while (p < end_ && *p >= '0' && *p <= '9') ++p;
      if (p == digits || p - digits > 20) return false;
    }
    if (p < end_ && (*p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return false;
    p_ = p;
    return true;
  }

  bool SkipLiteral(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    for (size_t i = 0; i < n; ++i) {
      if (p_[i] != word[i]) return false;
    }
    p_ += n;
    return true;
  }

  bool SkipString() {
    ++p_;  // the opening quote
    std::string_view raw;
    bool escaped = false;
    if (!ScanString(&raw, &escaped)) return false;
    return !escaped || DecodeJsonEscapes(raw, nullptr);
  }

  bool SkipValue(int depth) {
    SkipSpace();
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': return SkipString();
      case 'n': return SkipLiteral("null", 4);
      case 't': return SkipLiteral("true", 4);
      case 'f': return SkipLiteral("false", 5);
      case '{': return depth < kMaxDepth && SkipContainer('}', depth);
      case '[': return depth < kMaxDepth && SkipContainer(']', depth);
      default: return SkipNumber();
    }
  }

  // An object (close '}': "key": value pairs) or an array (close ']').
  bool SkipContainer(char close, int depth) {
    ++p_;
    for (bool first = true;; first = false) {
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (!first) {
        if (*p_ != ',') return false;
        ++p_;
        SkipSpace();
        if (p_ == end_) return false;
      }
      if (close == '}') {
        // Keys of skipped objects may have escapes: they need only be valid.
        if (*p_ != '"' || !SkipString() || !Take(':')) return false;
      }
      if (!SkipValue(depth + 1)) return false;
    }
  }

  const char* p_;
  const char* end_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_PROVIDERS_JSON_SCAN_H_

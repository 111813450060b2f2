#include "base/utf8.h"

namespace llmrelay {

size_t Utf8SequenceLength(std::string_view s, size_t* skip) {
  const auto at = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = at(0);
  if (lead < 0x80) return 1;
  // WHATWG "UTF-8 decoder": the number of continuation bytes needed and the
  // bounds of the first one (narrower after E0, ED, F0 and F4, which rules
  // out overlong forms, surrogates and code points above U+10FFFF).
  size_t need;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lower = 0xA0;
    if (lead == 0xED) upper = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lower = 0x90;
    if (lead == 0xF4) upper = 0x8F;
  } else {
    *skip = 1;  // a continuation byte, C0, C1 or F5..FF: never a lead
    return 0;
  }
  for (size_t i = 1; i <= need; ++i) {
    if (i >= s.size() || at(i) < lower || at(i) > upper) {
      *skip = i;  // the lead plus the continuation bytes that fit
      return 0;
    }
    lower = 0x80;
    upper = 0xBF;
  }
  return need + 1;
}

void AppendValidUtf8(std::string& out, std::string_view s) {
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t skip = 0;
    const size_t length = Utf8SequenceLength(s.substr(i), &skip);
    if (length != 0) {
      i += length;
      continue;
    }
    out.append(s, run, i - run);
    out.append(kReplacementCharacter);
    i += skip;
    run = i;
  }
  out.append(s, run, std::string_view::npos);
}

}  // namespace llmrelay

#include "providers/json_scan.h"

#include <cstdint>

namespace llmrelay {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// UTF-8 of a code point below 0x10000 that is not a surrogate.
void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

bool DecodeJsonEscapes(std::string_view raw, std::string* out) {
  const char* p = raw.data();
  const char* const end = p + raw.size();
  while (p < end) {
    const char* run = p;
    while (p < end && *p != '\\') ++p;
    if (out != nullptr) out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    if (end - p < 2) return false;
    const char e = p[1];
    p += 2;
    char plain = 0;
    switch (e) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        if (end - p < 4) return false;
        uint32_t cp = 0;
        for (int i = 0; i < 4; ++i) {
          const int v = HexValue(p[i]);
          if (v < 0) return false;
          cp = (cp << 4) | static_cast<uint32_t>(v);
        }
        p += 4;
        // Surrogates, paired or lone (RapidJSON has its own rules for
        // those), are left to the full parse.
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        if (out != nullptr) AppendUtf8(cp, *out);
        continue;
      }
      default: return false;
    }
    if (out != nullptr) out->push_back(plain);
  }
  return true;
}

}  // namespace llmrelay

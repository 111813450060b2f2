// NDJSON framing (https://github.com/ndjson/ndjson-spec): one JSON text per
// LF-terminated line. Ollama is the user; it sends LF, but a proxy may
// rewrite to CRLF, so one CR before the LF is dropped. A lone CR is not a
// terminator here (unlike SSE): it is JSON whitespace inside the line.
//
// Cost model as in sse_parser.cc: complete lines are delivered in place from
// the caller's buffer; only an unterminated tail is copied into line_.
#include "framing/ndjson_splitter.h"

#include <cstring>

namespace llmrelay {
namespace {

// A line of nothing but JSON whitespace (RFC 8259 §2, minus the LF that ended
// it) holds no value: a keep-alive or a stray CRLF, not a protocol error.
bool IsBlank(std::string_view line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return true;
}

// Strips the CR of a CRLF and hands a non-blank line to the handler. Returns
// false when the handler asks to stop.
bool Deliver(std::string_view line, LineHandler& handler) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (IsBlank(line)) {
    return true;
  }
  return handler.OnLine(line);
}

}  // namespace

NdjsonSplitter::NdjsonSplitter(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

FramingStatus NdjsonSplitter::Feed(const char* data, size_t len, LineHandler& handler) {
  if (failed_) {
    return FramingStatus::kLimit;
  }
  const char* p = data;
  const char* const end = data + len;
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const char* const eol = hit != nullptr ? static_cast<const char*>(hit) : end;
    // Checked before copying anything, and the same way whether the line is
    // complete, partial or carried, so the outcome does not depend on the split.
    if (line_.size() + static_cast<size_t>(eol - p) > max_line_bytes_) {
      failed_ = true;
      return FramingStatus::kLimit;
    }
    if (eol == end) {  // unterminated tail: carry it to the next read
      line_.append(p, end);
      break;
    }
    std::string_view line;
    if (line_.empty()) {
      line = std::string_view(p, static_cast<size_t>(eol - p));  // in place
    } else {
      line_.append(p, eol);
      line = line_;
    }
    p = eol + 1;
    const bool keep_going = Deliver(line, handler);
    line_.clear();
    if (!keep_going) {
      return FramingStatus::kStopped;
    }
  }
  return FramingStatus::kOk;
}

FramingStatus NdjsonSplitter::Finish(LineHandler& handler) {
  if (failed_) {
    return FramingStatus::kLimit;
  }
  if (line_.empty()) {
    return FramingStatus::kOk;
  }
  const bool keep_going = Deliver(line_, handler);
  line_.clear();
  return keep_going ? FramingStatus::kOk : FramingStatus::kStopped;
}

void NdjsonSplitter::Reset() {
  line_.clear();
  failed_ = false;
}

}  // namespace llmrelay

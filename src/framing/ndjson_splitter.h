// Newline-delimited JSON splitter: bytes in, lines out. Accepts LF and CRLF
// line endings and skips blank lines (empty, or only spaces, tabs and CRs:
// they hold no JSON value). No curl, no Node.
#ifndef LLMRELAY_FRAMING_NDJSON_SPLITTER_H_
#define LLMRELAY_FRAMING_NDJSON_SPLITTER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "framing/sse_parser.h"  // FramingStatus

namespace llmrelay {

class LineHandler {
 public:
  virtual ~LineHandler() = default;
  // One non-blank line without its terminator. Return false to stop.
  virtual bool OnLine(std::string_view line) = 0;
};

class NdjsonSplitter {
 public:
  // A line (its bytes before the LF) longer than `max_line_bytes` fails the
  // splitter with kLimit until Reset().
  explicit NdjsonSplitter(size_t max_line_bytes = SseParser::kDefaultMaxEventBytes);
  // Linear in `len` whatever the split. After kStopped the bytes that followed
  // the stopping line in this read are not consumed.
  FramingStatus Feed(const char* data, size_t len, LineHandler& handler);
  // End of stream: a last line without a terminator is delivered.
  FramingStatus Finish(LineHandler& handler);
  void Reset();

 private:
  size_t max_line_bytes_;
  std::string line_;     // a partial line carried across Feed calls
  bool failed_ = false;  // kLimit was returned; sticky until Reset()
};

}  // namespace llmrelay

#endif  // LLMRELAY_FRAMING_NDJSON_SPLITTER_H_

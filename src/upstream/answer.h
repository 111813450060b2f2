// What the provider answered, per attempt: its head (ResponseHeadParser),
// whether it is the event stream we asked for, and, when it is not, the
// part of its body that explains it and the Failure it becomes. Pure.
#ifndef LLMRELAY_UPSTREAM_ANSWER_H_
#define LLMRELAY_UPSTREAM_ANSWER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/records.h"
#include "upstream/response_head.h"

namespace llmrelay {

class Answer {
 public:
  // `event_stream_expected`: the provider streams SSE, so a 2xx of another
  // type (a JSON body, a proxy's HTML page) did not stream.
  explicit Answer(bool event_stream_expected) : event_stream_expected_(event_stream_expected) {}

  void Reset();
  // A header line from curl; true when it completed the final head.
  bool OnHeaderLine(std::string_view line) { return parser_.OnLine(line); }
  const ResponseHead& head() const { return parser_.head(); }
  bool head_complete() const { return parser_.head().complete; }
  // A 2xx event stream of the expected type: the body goes to the
  // pipeline. Anything else is read (bounded) only to explain the error.
  bool is_stream() const;
  // Body bytes of an answer that is not a stream. False once enough arrived
  // to explain it (stop reading).
  bool KeepErrorBody(const char* data, size_t len);
  // HTTP_STATUS (with Retry-After, the body and the headers) for a non-2xx;
  // PROTOCOL quoting the type and the start of the body for a 2xx of the
  // wrong type.
  Failure NonStreamFailure(int64_t now_unix_seconds) const;

 private:
  bool event_stream_expected_;
  ResponseHeadParser parser_;
  std::string body_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_ANSWER_H_

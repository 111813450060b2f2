// The provider's response head, read from the header lines curl hands over
// one at a time. Pure (test/cpp/response_head_test.cc).
#ifndef LLMRELAY_UPSTREAM_RESPONSE_HEAD_H_
#define LLMRELAY_UPSTREAM_RESPONSE_HEAD_H_

#include <string>
#include <string_view>

namespace llmrelay {

struct ResponseHead {
  long status = 0;
  int http_version = 0;  // 1 or 2
  std::string content_type;
  std::string content_encoding;
  std::string retry_after;
  std::string retry_after_ms;
  std::string headers_json;  // {"lower-case name":"value",...} of the final response
  bool complete = false;     // the blank line after a final (>= 200) status arrived

  bool ok() const { return status >= 200 && status < 300; }
  // The media type without parameters, trimmed ("text/event-stream").
  std::string_view media_type() const;
  // {"status":200,"httpVersion":"2","headers":{...}}: the head record
  // JavaScript receives for a 2xx (pipe's errorStatus waits for it).
  void AppendRecordJson(std::string& out) const;
};

class ResponseHeadParser {
 public:
  // One line as curl's header callback delivers it (with its CRLF): a status
  // line starts a new head (interim 1xx heads are replaced by the final
  // one), "Name: value" adds a field, the blank line ends the head. Returns
  // true when this line completed a final head.
  bool OnLine(std::string_view line);
  const ResponseHead& head() const { return head_; }
  void Reset() { head_ = ResponseHead{}; }

 private:
  ResponseHead head_;
};

// Case-insensitive ASCII comparison (header names, media types).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_RESPONSE_HEAD_H_

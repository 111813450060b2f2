#include "upstream/answer.h"

#include <algorithm>

#include "upstream/retry_policy.h"

namespace llmrelay {

namespace {

// A non-2xx body is read for its error message; more is never needed.
constexpr size_t kMaxErrorBody = size_t{64} * 1024;
// What of a wrong-type body goes into the PROTOCOL message; the read stops
// once this much arrived.
constexpr size_t kQuotedBodyBytes = 200;

// Cuts `s` to at most `max` bytes without splitting a UTF-8 character.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace

void Answer::Reset() {
  parser_.Reset();
  body_.clear();
}

bool Answer::is_stream() const {
  const ResponseHead& h = parser_.head();
  if (!h.ok()) return false;
  const std::string_view type = h.media_type();
  return !event_stream_expected_ || type.empty() || EqualsIgnoreCase(type, "text/event-stream");
}

bool Answer::KeepErrorBody(const char* data, size_t len) {
  const size_t limit = parser_.head().ok() ? kQuotedBodyBytes : kMaxErrorBody;
  body_.append(data, std::min(len, limit - std::min(limit, body_.size())));
  return body_.size() < limit;
}

Failure Answer::NonStreamFailure(int64_t now_unix_seconds) const {
  const ResponseHead& h = parser_.head();
  Failure failure;
  failure.status = h.status;
  if (!h.ok()) {
    failure.code = ErrorCode::kHttpStatus;
    failure.message = "The provider answered HTTP " + std::to_string(h.status);
    failure.retry_after_ms = ParseRetryAfterMs(h.retry_after_ms, h.retry_after, now_unix_seconds);
    failure.body = body_;
    failure.headers_json = h.headers_json;
    return failure;
  }
  failure.code = ErrorCode::kProtocol;
  failure.message = "Expected a text/event-stream answer but the provider sent '" + h.content_type + "'";
  if (!body_.empty()) {
    failure.message += ": ";
    failure.message += CutUtf8(body_, kQuotedBodyBytes);
  }
  return failure;
}

}  // namespace llmrelay

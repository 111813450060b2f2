// SSE parsing per WHATWG HTML §9.2.6 "Interpreting an event stream":
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
// Rule numbers in comments refer to the restatement in docs/wire-formats.md §1.
//
// Cost model. Every byte is looked at a bounded number of times, however the
// stream is split into reads:
//  - A line that lies wholly inside one read is processed in place, straight
//    from the caller's buffer. Only the unterminated tail of a read is copied,
//    into line_, and a line that spans reads is completed there (amortized
//    O(1) per byte: std::string grows geometrically).
//  - Terminators are found with memchr, one forward-only cursor for CR and one
//    for LF (see LineEndScanner), so a run of CR-terminated lines never makes
//    us rescan up to a distant LF.
//  - A data line is copied once into data_, at most: an event whose one data
//    line lies whole in the read (nearly every event of an LLM stream) is
//    handed to the handler straight from the caller's buffer, and copied only
//    if the event is still open when the read ends. Buffers are cleared,
//    never freed, so a steady stream reuses their capacity and allocates
//    nothing per event.
#include "framing/sse_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace llmrelay {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Finds the next CR or LF in [begin, end). Each cursor only moves forward, so
// all calls over one read cost O(end - begin) in total. (memchr for LF then
// for CR before it would rescan the same bytes once per CR-terminated line.)
class LineEndScanner {
 public:
  LineEndScanner(const char* begin, const char* end)
      : end_(end), next_cr_(Find(begin, '\r')), next_lf_(Find(begin, '\n')) {}

  // The first CR or LF at or after `p`, or end when there is none.
  const char* Next(const char* p) {
    if (next_cr_ < p) {
      next_cr_ = Find(p, '\r');
    }
    if (next_lf_ < p) {
      next_lf_ = Find(p, '\n');
    }
    return std::min(next_cr_, next_lf_);
  }

 private:
  const char* Find(const char* p, char c) const {
    const void* hit = std::memchr(p, c, static_cast<size_t>(end_ - p));
    return hit != nullptr ? static_cast<const char*>(hit) : end_;
  }

  const char* end_;
  const char* next_cr_;
  const char* next_lf_;
};

// Rule 12: only a non-empty run of ASCII digits is a valid `retry` value.
// Values too large for int64_t saturate rather than overflow.
bool ParseRetryMs(std::string_view value, int64_t* ms) {
  if (value.empty()) {
    return false;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t result = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return false;
    }
    const int digit = c - '0';
    result = result > (kMax - digit) / 10 ? kMax : result * 10 + digit;
  }
  *ms = result;
  return true;
}

}  // namespace

SseParser::SseParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

FramingStatus SseParser::Feed(const char* data, size_t len, SseHandler& handler) {
  if (failed_) {
    return FramingStatus::kLimit;
  }
  const char* p = data;
  const char* const end = data + len;

  if (!bom_checked_) {
    p = SkipByteOrderMark(p, end);
    if (!bom_checked_) {  // all of it was a BOM prefix
      return FramingStatus::kOk;
    }
  }
  // Rule 2: the previous read ended in CR. The line it ended was processed
  // then (no need to hold it back), so only an LF that completes the CRLF pair
  // remains to be swallowed; anything else starts the next line. An empty read
  // leaves the question open.
  if (pending_cr_ && p < end) {
    pending_cr_ = false;
    if (*p == '\n') {
      ++p;
    }
  }

  LineEndScanner scanner(p, end);
  while (p < end) {
    const char* const eol = scanner.Next(p);
    // The limit applies to the whole line, terminated or not, carried or in
    // place, so the outcome does not depend on how the stream was split.
    if (line_.size() + static_cast<size_t>(eol - p) > max_event_bytes_) {
      return FailOverLimit();
    }
    if (eol == end) {  // unterminated tail: carry it to the next read
      line_.append(p, end);
      break;
    }
    std::string_view line;
    const bool in_place = line_.empty();
    if (in_place) {
      line = std::string_view(p, static_cast<size_t>(eol - p));
    } else {
      line_.append(p, eol);
      line = line_;
    }
    p = eol + 1;
    if (*eol == '\r') {
      if (p == end) {
        pending_cr_ = true;
      } else if (*p == '\n') {
        ++p;
      }
    }
    const FramingStatus status = ProcessLine(line, in_place, handler);
    line_.clear();
    if (status != FramingStatus::kOk) {
      KeepData();
      return status;
    }
  }
  KeepData();  // the caller's buffer goes away now
  return FramingStatus::kOk;
}

void SseParser::KeepData() {
  if (!data_in_view_) return;
  data_in_view_ = false;
  data_.assign(data_view_);
  data_.push_back('\n');
}

// Rule 1: UTF-8 decode strips one U+FEFF at the very start of the stream. The
// three bytes may arrive in separate reads, so the match is kept across calls.
const char* SseParser::SkipByteOrderMark(const char* p, const char* end) {
  while (p < end && bom_bytes_seen_ < kByteOrderMark.size()) {
    if (*p != kByteOrderMark[bom_bytes_seen_]) {
      // Not a BOM after all: the bytes matched so far are the start of the
      // first line (none of them is CR or LF).
      line_.assign(kByteOrderMark.data(), bom_bytes_seen_);
      bom_checked_ = true;
      return p;
    }
    ++bom_bytes_seen_;
    ++p;
  }
  if (bom_bytes_seen_ == kByteOrderMark.size()) {
    bom_checked_ = true;
  }
  return p;
}

FramingStatus SseParser::ProcessLine(std::string_view line, bool in_place, SseHandler& handler) {
  if (line.empty()) {  // rule 4
    return DispatchEvent(handler);
  }
  if (line.front() == ':') {  // rule 5: comment
    return FramingStatus::kOk;
  }

  // Rules 6 and 7: the name runs to the first colon; without one, the whole
  // line is the name and the value is empty.
  std::string_view name = line;
  std::string_view value;
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {  // exactly one space
      value.remove_prefix(1);
    }
  }

  // Rules 8-13: names compare case-sensitively; unknown names are ignored.
  if (name == "data") {
    if (data_in_view_) KeepData();  // a second data line joins the first
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      return FailOverLimit();
    }
    if (data_.empty() && in_place) {
      data_view_ = value;  // the common case: one data line, copied only if it must be
      data_in_view_ = true;
      return FramingStatus::kOk;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    event_type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_buffer_.assign(value);
    }
  } else if (name == "retry") {
    ParseRetryMs(value, &retry_ms_);
  }
  return FramingStatus::kOk;
}

// Rule 14.
FramingStatus SseParser::DispatchEvent(SseHandler& handler) {
  last_event_id_ = id_buffer_;            // (a) even when nothing is dispatched
  if (data_.empty() && !data_in_view_) {  // (b) e.g. `event: ping` with no data
    event_type_.clear();
    return FramingStatus::kOk;
  }
  SseEvent event;
  event.type = event_type_.empty() ? std::string_view("message") : std::string_view(event_type_);
  // (c) drop the last LF (a view never had it)
  event.data = data_in_view_ ? data_view_ : std::string_view(data_.data(), data_.size() - 1);
  event.id = last_event_id_;
  const bool keep_going = handler.OnSseEvent(event);
  data_in_view_ = false;
  data_.clear();  // (e) the ID buffer is deliberately kept
  event_type_.clear();
  return keep_going ? FramingStatus::kOk : FramingStatus::kStopped;
}

FramingStatus SseParser::FailOverLimit() {
  failed_ = true;
  return FramingStatus::kLimit;
}

// Rule 15: whatever was not terminated by a blank line is dropped, including
// an unterminated last line (a final `data: {...}` is not delivered).
void SseParser::Finish() {
  line_.clear();
  data_.clear();
  data_in_view_ = false;
  event_type_.clear();
  pending_cr_ = false;
}

void SseParser::Reset() {
  Finish();
  id_buffer_.clear();
  last_event_id_.clear();
  retry_ms_ = -1;
  bom_bytes_seen_ = 0;
  bom_checked_ = false;
  failed_ = false;
}

}  // namespace llmrelay

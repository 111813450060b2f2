// Incremental Server-Sent Events parser following the WHATWG HTML
// "parse an event stream" algorithm. Bytes in, events out; no curl, no Node.
#ifndef LLMRELAY_FRAMING_SSE_PARSER_H_
#define LLMRELAY_FRAMING_SSE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmrelay {

// One dispatched event. Views are valid only during the OnSseEvent call.
struct SseEvent {
  std::string_view type;  // the `event` field; "message" when none was set
  std::string_view data;  // data lines joined with '\n', final '\n' removed
  std::string_view id;    // the last event ID string (persists across events)
};

class SseHandler {
 public:
  virtual ~SseHandler() = default;
  // Return false to stop parsing (Feed returns kStopped at once).
  // Must not call back into the parser that is delivering the event.
  virtual bool OnSseEvent(const SseEvent& event) = 0;
};

enum class FramingStatus : uint8_t {
  kOk,       // all bytes consumed
  kLimit,    // an event (or a line) grew past max_event_bytes
  kStopped,  // the handler returned false
};

// Bytes are not decoded (a deliberate deviation from the spec's UTF-8 decode):
// lines are split on the raw bytes and field values are handed on as they
// arrived, so invalid UTF-8 reaches the handler unchanged instead of as
// U+FFFD. Whatever turns the bytes into text decides what to do with it (a
// JSON parser may reject it, a UTF-8 decoder substitutes U+FFFD). Splitting
// before decoding gives the same lines: CR, LF, ':' and ' ' are ASCII, and a
// decoder never turns any byte sequence into them or swallows one of them.
class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = size_t{8} << 20;

  // `max_event_bytes` bounds both a single line and the data buffer of one
  // event; going past it fails the parser with kLimit until Reset().
  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes);

  // Feeds the next bytes of the stream. Linear in `len` whatever the split.
  // After kStopped the bytes that followed the stopping event in this read are
  // not consumed; after kLimit every Feed returns kLimit until Reset().
  FramingStatus Feed(const char* data, size_t len, SseHandler& handler);
  // End of stream: an event not terminated by a blank line is discarded.
  void Finish();
  // Forget all state (for a retried request).
  void Reset();

  // The last valid `retry:` value, or -1.
  int64_t retry_ms() const { return retry_ms_; }
  // The spec's "last event ID string": the ID as of the last blank line, which
  // is what a reconnection would send as Last-Event-ID.
  std::string_view last_event_id() const { return last_event_id_; }

 private:
  // Implementation details; see sse_parser.cc.
  const char* SkipByteOrderMark(const char* p, const char* end);
  // `in_place`: `line` lies in the caller's buffer (valid until Feed returns).
  FramingStatus ProcessLine(std::string_view line, bool in_place, SseHandler& handler);
  FramingStatus DispatchEvent(SseHandler& handler);
  FramingStatus FailOverLimit();
  // Copies a data line still held as a view into data_ (before the caller's
  // buffer goes away, or before another data line joins it).
  void KeepData();

  size_t max_event_bytes_;
  std::string line_;  // a partial line carried across Feed calls
  std::string data_;  // data buffer
  // The data buffer while it holds one data line that lies in the caller's
  // buffer: nearly every event is one `data:` line read whole, and this
  // spares copying it (KeepData copies it when it must outlive the read).
  std::string_view data_view_;
  bool data_in_view_ = false;
  std::string event_type_;     // event type buffer
  std::string id_buffer_;      // last event ID buffer (set by `id:` lines)
  std::string last_event_id_;  // last event ID string (set on each blank line)
  int64_t retry_ms_ = -1;
  size_t bom_bytes_seen_ = 0;  // BOM prefix matched so far, across reads
  bool bom_checked_ = false;   // the leading BOM was looked for
  bool pending_cr_ = false;    // last byte fed was CR: a following LF belongs to it
  bool failed_ = false;        // kLimit was returned; sticky until Reset()
};

}  // namespace llmrelay

#endif  // LLMRELAY_FRAMING_SSE_PARSER_H_

// Direct downstream writes: the worker thread writes one stream's encoded
// bytes straight to the relayed client's plain HTTP/1.1 socket, as
// chunked-encoding chunks, so the main thread does no work per token
// (lib/server/node-direct.js decides when; lib/server/node-internals.js holds the
// Node specifics). The end record still goes to JavaScript, through the
// sink behind this one, once the socket took the last bytes.
//
// The socket belongs to Node. The sink writes to its own duplicate of Node's
// fd, made on the main thread at the moment pipe() chose direct mode (while
// Node's socket was certainly open) and owned from then on. Duplicating
// later, on the worker, from the fd *number* would be wrong: a client that
// left in between frees the number, the next accepted connection gets it, and
// the worker would write this response into a stranger's connection. The
// duplicate names this client's socket whatever happens to the number, so a
// late write can only reach the client that left (EPIPE). The sink never
// shutdown()s the socket and closes only its duplicate.
#ifndef LLMRELAY_OUTPUT_SOCKET_SINK_H_
#define LLMRELAY_OUTPUT_SOCKET_SINK_H_

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "output/sink.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class SocketSink final : public ForwardingSink {
 public:
  // Writes `preamble` (the response head Node built but did not send) at
  // once, then the body as chunks. `text_format`: an error cannot be carried
  // in plain text, so a failed stream leaves the body unterminated for
  // JavaScript to cut short. Null (and `*error` set) when `socket` is not a
  // usable socket; the caller then keeps the chain without it.
  // `next` is moved from only on success.
  static SinkPtr Open(uv_loop_t* loop, UniqueFd socket, std::string_view preamble, bool text_format, Notify notify,
                      void* owner, SinkPtr& next, int* error);

  void Head(std::string& record_json) override;
  Flow Write(std::string& bytes) override;
  bool End(std::string& tail, EndRecord& end) override;
  void Detach() override;
  void Stop() override;
  std::string_view ClosedReason() const override { return closed_reason_; }
  void Dispose() override;

 private:
  SocketSink(uv_loop_t* loop, UniqueFd socket, bool text_format, Notify notify, void* owner, SinkPtr next);

  static void OnWritable(uv_poll_t* handle, int status, int events);
  static void OnHandleClosed(uv_handle_t* handle);

  bool drained() const { return pending_.empty(); }
  bool failed() const { return error_ != 0; }
  // "<lowercase hex size>\r\n<bytes>\r\n", the framing Node's
  // ServerResponse#write uses (no chunk extensions); empty input writes
  // nothing (a zero-size chunk would end the body).
  void WriteChunk(std::string_view bytes);
  // Sends head + body + tail (any may be empty) after pending_, keeping the
  // unsent rest in pending_; a fatal socket error sets error_.
  void Send(std::string_view head, std::string_view body, std::string_view tail);
  void FlushPending();
  void WatchWritable(bool on);
  void Fail(int err);
  // Stops all writing and closes the duplicate; `outcome` unless decided.
  void CloseSocket(DirectOutcome outcome);

  uv_loop_t* loop_;
  uv_poll_t poll_{};
  bool poll_open_ = false;  // made on the first full socket (WatchWritable)
  bool watching_ = false;
  UniqueFd fd_;  // our duplicate of the client's socket
  bool text_format_;
  Notify notify_;
  void* owner_;
  std::string pending_;  // framed bytes the socket has not taken yet
  int error_ = 0;
  std::string closed_reason_;
  bool tail_written_ = false;
  bool last_chunk_written_ = false;
  bool disposed_ = false;
  int open_handles_ = 0;
  DirectOutcome outcome_ = DirectOutcome::kNone;  // decided once the socket is let go
  char size_line_[24] = {0};
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_SOCKET_SINK_H_

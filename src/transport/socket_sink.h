// Direct downstream writes: the worker thread writes one stream's encoded
// bytes straight to the client's plain HTTP/1.1 socket as chunked-encoding
// chunks, so the main thread does no work per token (see lib/server/node.js
// for when pipe() uses it, and the fallback to Node's own writes).
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
#ifndef LLMRELAY_TRANSPORT_SOCKET_SINK_H_
#define LLMRELAY_TRANSPORT_SOCKET_SINK_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/unique_fd.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class SocketSink {
 public:
  // Called when the sink changed state on its own (its pending bytes drained,
  // or a write failed): the owner looks at drained()/failed().
  using Notify = void (*)(void* context);

  // `socket` is the sink's own duplicate of the client's socket. The
  // heartbeat (empty or heartbeat_ms 0 = none) goes out as a chunk when
  // nothing was written for heartbeat_ms.
  static std::unique_ptr<SocketSink> Open(uv_loop_t* loop, UniqueFd socket, std::string heartbeat, uint64_t heartbeat_ms,
                                          Notify notify, void* context, int* error);
  // Stops every write, closes the dup and the uv handles; the object is freed
  // once libuv is done with them.
  static void Close(std::unique_ptr<SocketSink> sink);

  ~SocketSink();
  SocketSink(const SocketSink&) = delete;
  SocketSink& operator=(const SocketSink&) = delete;

  // Writes `bytes` as one chunk: "<lowercase hex size>\r\n<bytes>\r\n", the
  // framing Node's ServerResponse#write uses (no chunk extensions). Empty
  // input writes nothing (a zero-size chunk would end the body). What the
  // socket does not take now waits in pending_ and goes out when it becomes
  // writable; writes after a failure are dropped.
  void WriteChunk(std::string_view bytes);
  // Writes `bytes` as they are (the response head).
  void WriteRaw(std::string_view bytes);
  // Writes the last-chunk that ends a chunked body ("0\r\n\r\n", no trailers).
  void WriteLastChunk();

  bool failed() const { return error_ != 0; }
  int error() const { return error_; }
  // Nothing is waiting for the socket: the caller may produce more.
  bool drained() const { return pending_.empty(); }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  SocketSink(uv_loop_t* loop, UniqueFd socket, std::string heartbeat, uint64_t heartbeat_ms, Notify notify, void* context);

  static void OnWritable(uv_poll_t* handle, int status, int events);
  static void OnHeartbeat(uv_timer_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);

  // Sends head + body + tail (any may be empty) after pending_, keeping the
  // unsent rest in pending_; a fatal socket error sets error_.
  void Send(std::string_view head, std::string_view body, std::string_view tail);
  void FlushPending();
  void WatchWritable(bool on);
  void Fail(int err);

  uv_loop_t* loop_;
  UniqueFd fd_;  // our duplicate of the client's socket
  uv_poll_t poll_{};
  uv_timer_t heartbeat_timer_{};
  bool poll_open_ = false;
  bool timer_open_ = false;
  bool watching_ = false;
  int open_handles_ = 0;  // uv handles still to be closed before delete
  std::string heartbeat_;
  uint64_t heartbeat_ms_;
  uint64_t last_write_ms_ = 0;  // uv_now of the last chunk handed to the socket
  Notify notify_;
  void* context_;
  std::string pending_;  // framed bytes the socket has not taken yet
  int error_ = 0;
  uint64_t bytes_written_ = 0;
  char size_line_[24] = {0};
};

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_SOCKET_SINK_H_

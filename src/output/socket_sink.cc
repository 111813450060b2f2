#include "output/socket_sink.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace llmrelay {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

// sendmsg rather than writev: MSG_NOSIGNAL turns a write to a socket whose
// peer left into EPIPE instead of SIGPIPE (Node ignores SIGPIPE, but an
// embedder might not), and MSG_DONTWAIT keeps the worker from ever blocking
// even if someone cleared O_NONBLOCK on the shared file description.
ssize_t SendV(int fd, iovec* iov, int count) {
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(count);
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

SinkPtr SocketSink::Open(uv_loop_t* loop, UniqueFd socket, std::string_view preamble, bool text_format, Notify notify,
                         void* owner, SinkPtr& next, int* error) {
  *error = 0;
  if (!socket.valid()) {
    *error = EBADF;
    return nullptr;
  }
  // A stream socket, or nothing. (The poll handle that waits for a full
  // socket is made only when one is full: most streams never fill theirs,
  // and making it costs three syscalls, closing it a fourth.)
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(socket.get(), SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    *error = ENOTSOCK;
    return nullptr;  // the duplicate goes now
  }
  std::unique_ptr<SocketSink> sink(new SocketSink(loop, std::move(socket), text_format, notify, owner, nullptr));
  // The chain moves in only now: on failure above the caller keeps `next`.
  sink->AttachNext(std::move(next));
  sink->Send(preamble, {}, {});
  return SinkPtr(sink.release());
}

SocketSink::SocketSink(uv_loop_t* loop, UniqueFd socket, bool text_format, Notify notify, void* owner, SinkPtr next)
    : ForwardingSink(std::move(next)),
      loop_(loop),
      fd_(std::move(socket)),
      text_format_(text_format),
      notify_(notify),
      owner_(owner) {}

void SocketSink::Head(std::string& record_json) {
  // JavaScript built the head and this sink wrote it (the preamble).
  record_json.clear();
}

Sink::Flow SocketSink::Write(std::string& bytes) {
  if (fd_.valid() && !failed()) WriteChunk(bytes);
  bytes.clear();
  if (!fd_.valid() || failed()) {
    if (closed_reason_.empty()) closed_reason_ = "The client closed the connection";
    return Flow::kClosed;
  }
  return drained() ? Flow::kOpen : Flow::kFull;
}

bool SocketSink::End(std::string& tail, EndRecord& end) {
  if (fd_.valid() && !failed() && !tail_written_) {
    tail_written_ = true;
    // Mirrors lib/server/node-relay.js: a clean end, or an error the format can
    // carry, goes out as the tail plus the last-chunk; text cannot carry an
    // error, so its body is left unterminated for JavaScript to cut short.
    if (end.ok || (!text_format_ && !tail.empty())) {
      WriteChunk(tail);
      Send(kLastChunk, {}, {});
      last_chunk_written_ = true;
    }
  }
  tail.clear();
  // The end record waits until the socket took the last bytes: Node must not
  // finish the response (or reuse the connection) before that.
  if (fd_.valid() && !failed() && !drained()) return false;
  CloseSocket(failed() ? DirectOutcome::kGone : last_chunk_written_ ? DirectOutcome::kFinished : DirectOutcome::kOpen);
  end.direct = outcome_;
  std::string nothing;
  return ForwardingSink::End(nothing, end);
}

void SocketSink::Detach() {
  CloseSocket(DirectOutcome::kGone);
  ForwardingSink::Detach();
}

void SocketSink::Stop() {
  // Only a body whose last-chunk is wholly on the wire is finished; bytes
  // still waiting are dropped, and Node must then cut the response short
  // rather than reuse a connection with a half-written body.
  CloseSocket(last_chunk_written_ && drained() && !failed() ? DirectOutcome::kFinished : DirectOutcome::kOpen);
  ForwardingSink::Stop();
}

void SocketSink::CloseSocket(DirectOutcome outcome) {
  if (outcome_ == DirectOutcome::kNone) outcome_ = outcome;
  pending_.clear();
  pending_.shrink_to_fit();
  if (poll_open_) {
    poll_open_ = false;
    watching_ = false;
    ++open_handles_;
    // uv_close on a poll handle removes the fd from the loop's epoll set
    // synchronously, so the duplicate can be closed right here rather than
    // a loop turn later: while it stays open, a socket Node destroyed
    // (close(2) on its own fd) would not send its FIN yet.
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &SocketSink::OnHandleClosed);
  }
  fd_.reset();
}

void SocketSink::Dispose() {
  notify_ = nullptr;
  CloseSocket(DirectOutcome::kOpen);
  ReleaseNext();
  disposed_ = true;
  if (open_handles_ == 0) {
    std::unique_ptr<SocketSink> owned(this);
  }
}

void SocketSink::OnHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<SocketSink*>(handle->data);
  if (--self->open_handles_ == 0 && self->disposed_) {
    std::unique_ptr<SocketSink> owned(self);
  }
}

void SocketSink::WriteChunk(std::string_view bytes) {
  if (bytes.empty() || failed()) return;
  const int n = std::snprintf(size_line_, sizeof(size_line_), "%zx\r\n", bytes.size());
  Send(std::string_view(size_line_, static_cast<size_t>(n)), bytes, kCrlf);
}

void SocketSink::Send(std::string_view head, std::string_view body, std::string_view tail) {
  if (!fd_.valid() || failed()) return;
  if (!pending_.empty()) {
    // Earlier bytes still wait for the socket: keep the order.
    pending_.append(head).append(body).append(tail);
    return;
  }
  iovec iov[3];
  int count = 0;
  for (std::string_view part : {head, body, tail}) {
    if (part.empty()) continue;
    iov[count].iov_base = const_cast<char*>(part.data());
    iov[count].iov_len = part.size();
    ++count;
  }
  if (count == 0) return;
  const size_t total = head.size() + body.size() + tail.size();
  const ssize_t n = SendV(fd_.get(), iov, count);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    Fail(errno);
    return;
  }
  size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
  if (sent == total) return;
  // The socket buffer is full (the client reads slower than we produce):
  // keep the rest, in order, and wait for writability.
  for (std::string_view part : {head, body, tail}) {
    if (sent >= part.size()) {
      sent -= part.size();
      continue;
    }
    pending_.append(part.substr(sent));
    sent = 0;
  }
  WatchWritable(true);
}

void SocketSink::FlushPending() {
  while (!pending_.empty() && fd_.valid()) {
    ssize_t n;
    do {
      n = ::send(fd_.get(), pending_.data(), pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // still full: keep watching
      Fail(errno);
      return;
    }
    pending_.erase(0, static_cast<size_t>(n));
  }
  WatchWritable(false);
}

void SocketSink::WatchWritable(bool on) {
  if (on == watching_) return;
  if (!poll_open_) {
    if (!on || !fd_.valid()) return;
    if (uv_poll_init_socket(loop_, &poll_, fd_.get()) != 0) {
      Fail(ENOTSOCK);
      return;
    }
    poll_.data = this;
    poll_open_ = true;
  }
  watching_ = on;
  if (on) {
    uv_poll_start(&poll_, UV_WRITABLE, &SocketSink::OnWritable);
  } else {
    uv_poll_stop(&poll_);
  }
}

void SocketSink::Fail(int err) {
  error_ = err;
  closed_reason_ = std::string("The client closed the connection (") + std::strerror(err) + ")";
  pending_.clear();
  pending_.shrink_to_fit();
  WatchWritable(false);
}

// Runs on the worker thread.
void SocketSink::OnWritable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<SocketSink*>(handle->data);
  if (self->failed() || !self->fd_.valid()) return;
  if (status < 0) {
    self->Fail(-status);
  } else {
    self->FlushPending();
  }
  if (self->notify_ == nullptr) return;
  if (self->failed()) {
    self->notify_(self->owner_, Event::kClosed);
  } else if (self->drained()) {
    self->notify_(self->owner_, Event::kDrained);
  }
}

}  // namespace llmrelay

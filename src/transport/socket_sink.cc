#include "transport/socket_sink.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

std::unique_ptr<SocketSink> SocketSink::Open(uv_loop_t* loop, UniqueFd socket, std::string heartbeat,
                                             uint64_t heartbeat_ms, Notify notify, void* context, int* error) {
  *error = 0;
  if (!socket.valid()) {
    *error = EBADF;
    return nullptr;
  }
  const int fd = socket.get();
  std::unique_ptr<SocketSink> sink(
      new SocketSink(loop, std::move(socket), std::move(heartbeat), heartbeat_ms, notify, context));
  if (uv_poll_init_socket(loop, &sink->poll_, fd) != 0) {
    *error = EBADF;  // not a socket
    return nullptr;  // the destructor closes the duplicate
  }
  sink->poll_.data = sink.get();
  sink->poll_open_ = true;
  uv_timer_init(loop, &sink->heartbeat_timer_);
  sink->heartbeat_timer_.data = sink.get();
  sink->timer_open_ = true;
  sink->last_write_ms_ = uv_now(loop);
  if (sink->heartbeat_ms_ > 0 && !sink->heartbeat_.empty()) {
    uv_timer_start(&sink->heartbeat_timer_, &SocketSink::OnHeartbeat, sink->heartbeat_ms_, 0);
  }
  return sink;
}

SocketSink::SocketSink(uv_loop_t* loop, UniqueFd socket, std::string heartbeat, uint64_t heartbeat_ms,
                       Notify notify, void* context)
    : loop_(loop),
      fd_(std::move(socket)),
      heartbeat_(std::move(heartbeat)),
      heartbeat_ms_(heartbeat_ms),
      notify_(notify),
      context_(context) {}

// Only reached with the handles closed (Close) or never opened (Open
// failing): either way libuv no longer watches the fd, which fd_ closes.
SocketSink::~SocketSink() = default;

void SocketSink::Close(std::unique_ptr<SocketSink> sink) {
  if (!sink) return;
  SocketSink* raw = sink.release();
  raw->notify_ = nullptr;
  raw->error_ = raw->error_ != 0 ? raw->error_ : ECANCELED;  // drop any later write
  if (raw->timer_open_) {
    uv_timer_stop(&raw->heartbeat_timer_);
    ++raw->open_handles_;
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->heartbeat_timer_), &SocketSink::OnHandleClosed);
  }
  if (raw->poll_open_) {
    ++raw->open_handles_;
    // uv_close on a poll handle removes the fd from the loop's epoll set
    // synchronously, so the dup can be closed right here rather than a loop
    // turn later: while it stays open, a socket Node destroyed (close(2) on
    // its own fd) would not send its FIN yet.
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->poll_), &SocketSink::OnHandleClosed);
  }
  raw->fd_.reset();
  if (raw->open_handles_ == 0) {
    std::unique_ptr<SocketSink> owned(raw);  // no handle was ever opened
  }
}

void SocketSink::OnHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<SocketSink*>(handle->data);
  // The last of the two handles: libuv is done with this object.
  if (--self->open_handles_ == 0) {
    std::unique_ptr<SocketSink> owned(self);
  }
}

void SocketSink::WriteChunk(std::string_view bytes) {
  if (bytes.empty() || failed()) return;
  const int n = std::snprintf(size_line_, sizeof(size_line_), "%zx\r\n", bytes.size());
  Send(std::string_view(size_line_, static_cast<size_t>(n)), bytes, kCrlf);
}

void SocketSink::WriteRaw(std::string_view bytes) {
  if (bytes.empty() || failed()) return;
  Send(bytes, {}, {});
}

void SocketSink::WriteLastChunk() {
  if (failed()) return;
  Send(kLastChunk, {}, {});
}

void SocketSink::Send(std::string_view head, std::string_view body, std::string_view tail) {
  last_write_ms_ = uv_now(loop_);
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
  const size_t total = head.size() + body.size() + tail.size();
  const ssize_t n = SendV(fd_.get(), iov, count);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    Fail(errno);
    return;
  }
  size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
  bytes_written_ += sent;
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
  while (!pending_.empty()) {
    ssize_t n;
    do {
      n = ::send(fd_.get(), pending_.data(), pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // still full: keep watching
      Fail(errno);
      return;
    }
    bytes_written_ += static_cast<size_t>(n);
    pending_.erase(0, static_cast<size_t>(n));
  }
  WatchWritable(false);
}

void SocketSink::WatchWritable(bool on) {
  if (on == watching_ || !poll_open_) return;
  watching_ = on;
  if (on) {
    uv_poll_start(&poll_, UV_WRITABLE, &SocketSink::OnWritable);
  } else {
    uv_poll_stop(&poll_);
  }
}

void SocketSink::Fail(int err) {
  error_ = err;
  pending_.clear();
  pending_.shrink_to_fit();
  WatchWritable(false);
  uv_timer_stop(&heartbeat_timer_);
}

void SocketSink::OnWritable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<SocketSink*>(handle->data);
  if (self->failed()) return;
  if (status < 0) {
    self->Fail(-status);
  } else {
    self->FlushPending();
  }
  if ((self->failed() || self->drained()) && self->notify_ != nullptr) self->notify_(self->context_);
}

void SocketSink::OnHeartbeat(uv_timer_t* handle) {
  auto* self = static_cast<SocketSink*>(handle->data);
  if (self->failed()) return;
  const uint64_t now = uv_now(self->loop_);
  const uint64_t idle = now - self->last_write_ms_;
  if (idle >= self->heartbeat_ms_) {
    // A client that does not read gains nothing from more bytes.
    if (self->drained()) self->WriteChunk(self->heartbeat_);
    uv_timer_start(&self->heartbeat_timer_, &SocketSink::OnHeartbeat, self->heartbeat_ms_, 0);
  } else {
    // Written meanwhile: the idle clock restarted at the last write.
    uv_timer_start(&self->heartbeat_timer_, &SocketSink::OnHeartbeat, self->heartbeat_ms_ - idle, 0);
  }
  if (self->failed() && self->notify_ != nullptr) self->notify_(self->context_);
}

}  // namespace llmrelay

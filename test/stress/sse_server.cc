#include "sse_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace llmrelay {
namespace stress {

namespace {

constexpr size_t kMaxRequestBytes = size_t{64} * 1024;
constexpr int kPollMs = 20;  // how often blocked loops look at the stop flag

std::string Token(int index, int size) {
  std::string token = "t" + std::to_string(index) + " ";
  if (size > static_cast<int>(token.size())) token.append(static_cast<size_t>(size) - token.size(), 'x');
  return token;
}

// The value of `key` in "a=1&b=2", or `fallback`.
int QueryInt(std::string_view query, std::string_view key, int fallback) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == key) {
      return std::atoi(std::string(pair.substr(eq + 1)).c_str());
    }
    pos = amp + 1;
  }
  return fallback;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool SendChunk(int fd, std::string_view payload) {
  char size_line[24];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", payload.size());
  std::string chunk(size_line);
  chunk.append(payload);
  chunk.append("\r\n");
  return SendAll(fd, chunk);
}

std::string ContentEvent(std::string_view text) {
  return "data: {\"id\":\"chatcmpl-stress\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
         "\"delta\":{\"content\":\"" +
         std::string(text) + "\"},\"finish_reason\":null}]}\n\n";
}

}  // namespace

std::string ExpectedText(int tokens, int size) {
  std::string text;
  for (int i = 0; i < tokens; ++i) text += Token(i, size);
  return text;
}

SseServer::SseServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 512) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("SseServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  OpenRefusedFirst();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

void SseServer::OpenRefusedFirst() {
  // A few tries: the port the kernel picks on ::1 may be taken on 127.0.0.1.
  for (int attempt = 0; attempt < 8 && listen6_fd_ < 0; ++attempt) {
    const int fd6 = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd6 < 0) return;
    const int only6 = 1;
    ::setsockopt(fd6, IPPROTO_IPV6, IPV6_V6ONLY, &only6, sizeof only6);
    sockaddr_in6 addr6{};
    addr6.sin6_family = AF_INET6;
    addr6.sin6_addr = in6addr_loopback;
    socklen_t len6 = sizeof addr6;
    if (::bind(fd6, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6) != 0 ||
        ::getsockname(fd6, reinterpret_cast<sockaddr*>(&addr6), &len6) != 0) {
      ::close(fd6);
      return;  // no IPv6 loopback here
    }
    const int fd4 = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr4{};
    addr4.sin_family = AF_INET;
    addr4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr4.sin_port = addr6.sin6_port;
    if (fd4 >= 0 && ::bind(fd4, reinterpret_cast<sockaddr*>(&addr4), sizeof addr4) == 0 && ::listen(fd6, 512) == 0) {
      listen6_fd_ = fd6;
      refuse_fd_ = fd4;
      port6_ = ntohs(addr6.sin6_port);
      return;
    }
    if (fd4 >= 0) ::close(fd4);
    ::close(fd6);
  }
}

SseServer::~SseServer() { Stop(); }

std::string SseServer::Url(const std::string& query, bool refused_first) const {
  if (refused_first && listen6_fd_ >= 0) {
    return "http://localhost:" + std::to_string(port6_) + "/v1/chat/completions?" + query;
  }
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1/chat/completions?" + query;
}

void SseServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  if (listen6_fd_ >= 0) ::close(listen6_fd_);
  if (refuse_fd_ >= 0) ::close(refuse_fd_);
  std::vector<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connections.swap(connections_);
  }
  // A connection's fd is closed only after its thread is joined, so these
  // numbers still name our sockets: shutdown() wakes a blocked send or poll.
  for (auto& connection : connections) ::shutdown(connection->fd, SHUT_RDWR);
  for (auto& connection : connections) {
    connection->thread.join();
    ::close(connection->fd);
  }
}

void SseServer::ReapDone() {
  std::vector<std::unique_ptr<Connection>> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done.load()) {
        done.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : done) {
    connection->thread.join();
    ::close(connection->fd);
  }
}

void SseServer::AcceptLoop() {
  while (!stopping_.load()) {
    ReapDone();
    pollfd pfds[2] = {{listen_fd_, POLLIN, 0}, {listen6_fd_, POLLIN, 0}};
    if (::poll(pfds, listen6_fd_ >= 0 ? 2 : 1, kPollMs) <= 0) continue;
    const int listener = (pfds[0].revents & POLLIN) != 0 ? listen_fd_ : listen6_fd_;
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    open_.fetch_add(1);
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* raw = connection.get();
    std::lock_guard<std::mutex> lock(mutex_);
    connection->thread = std::thread([this, raw] { Serve(raw); });
    connections_.push_back(std::move(connection));
  }
}

void SseServer::Serve(Connection* connection) {
  const int fd = connection->fd;
  std::string in;
  // Reads more request bytes; false when the client left, the server stops
  // or the request is too large.
  auto read_more = [&]() {
    char buf[4096];
    while (!stopping_.load()) {
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, kPollMs);
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      return in.size() <= kMaxRequestBytes;
    }
    return false;
  };

  for (;;) {
    size_t head_end = std::string::npos;
    bool ok = true;
    while (ok && (head_end = in.find("\r\n\r\n")) == std::string::npos) ok = read_more();
    if (!ok) break;
    const std::string_view head(in.data(), head_end);
    const size_t line_end = head.find("\r\n");
    const std::string request_line(head.substr(0, line_end));  // `in` changes below
    std::string lower(head);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t length_at = lower.find("\r\ncontent-length:");
    const size_t content_length =
        length_at == std::string::npos ? 0 : static_cast<size_t>(std::atoll(lower.c_str() + length_at + 17));
    while (ok && in.size() < head_end + 4 + content_length) ok = read_more();
    if (!ok) break;
    in.erase(0, head_end + 4 + content_length);

    const size_t q = request_line.find('?');
    const size_t sp = request_line.rfind(' ');
    const std::string_view query = q == std::string::npos || sp == std::string::npos || sp < q
                                       ? std::string_view()
                                       : std::string_view(request_line).substr(q + 1, sp - q - 1);
    const int status = QueryInt(query, "status", 200);
    if (status != 200) {
      const std::string body = "{\"error\":{\"message\":\"stress status " + std::to_string(status) + "\"}}";
      if (!SendAll(fd, "HTTP/1.1 " + std::to_string(status) +
                           " Error\r\nContent-Type: application/json\r\n"
                           "Content-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body)) {
        break;
      }
      continue;
    }
    const int tokens = QueryInt(query, "tokens", 20);
    const int size = QueryInt(query, "size", 0);
    const int gap_us = QueryInt(query, "gap_us", 0);
    const bool stall = QueryInt(query, "stall", 0) != 0;
    ok = SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; ok && i < tokens && !stopping_.load(); ++i) {
      ok = SendChunk(fd, ContentEvent(Token(i, size)));
      if (gap_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    }
    if (!ok || stopping_.load()) break;
    if (stall) {
      // Hold the answer open until the client gives up on it.
      char buf[256];
      while (!stopping_.load()) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, kPollMs) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) break;
      }
      break;
    }
    ok = SendChunk(fd,
                   "data: {\"id\":\"chatcmpl-stress\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                   "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n") &&
         SendAll(fd, "0\r\n\r\n");
    if (!ok) break;
  }
  // The fd itself is closed by whoever joins this thread (ReapDone, Stop).
  ::shutdown(fd, SHUT_RDWR);
  open_.fetch_sub(1);
  connection->done.store(true);
}

}  // namespace stress
}  // namespace llmrelay

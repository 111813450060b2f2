// A small HTTP/1.1 provider for the engine stress test: plain sockets on
// 127.0.0.1 (port 0), one thread accepting and one thread per connection.
// Every request gets an OpenAI chat-completions stream as a chunked
// text/event-stream, and the connection stays open for the next request, so
// curl reuses it. The request's query picks the answer:
//   tokens=N   N text events "t0 ", "t1 ", ... before the end (default 20)
//   size=B     pad every token to B bytes with 'x' (default: no padding)
//   gap_us=U   sleep U microseconds between events (default 0)
//   stall=1    send the tokens, then neither the end marker nor the end of
//              the body: hold the connection until the client leaves
//   status=S   answer S (not 2xx) with a small JSON error body instead
// Everything is bounded: reads time out, a stall ends when the server stops,
// and Stop() closes every connection and joins every thread.
#ifndef LLMRELAY_TEST_STRESS_SSE_SERVER_H_
#define LLMRELAY_TEST_STRESS_SSE_SERVER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace llmrelay {
namespace stress {

// What the server sends for `tokens` tokens padded to `size` bytes: the text
// a client assembles from a complete answer.
std::string ExpectedText(int tokens, int size);

class SseServer {
 public:
  SseServer();
  ~SseServer();
  SseServer(const SseServer&) = delete;
  SseServer& operator=(const SseServer&) = delete;

  // "http://127.0.0.1:<port>/v1/chat/completions?<query>", or with
  // `refused_first`, "http://localhost:<port2>/...": a port the server holds
  // on 127.0.0.1 without listening (curl's first try is refused at once) and
  // listens on at ::1, so the transfer closes its refused socket and connects
  // again. Without IPv6 on the machine, the plain URL.
  std::string Url(const std::string& query, bool refused_first = false) const;
  // Connections accepted and not yet closed by either side.
  size_t open_connections() const { return open_.load(); }
  size_t accepted() const { return accepted_.load(); }
  // Closes the listener and every connection; joins every thread.
  void Stop();

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void OpenRefusedFirst();
  void AcceptLoop();
  void Serve(Connection* connection);
  void ReapDone();  // joins the threads of finished connections

  int listen_fd_ = -1;
  int port_ = 0;
  int listen6_fd_ = -1;  // [::1]:port6_, or -1 without IPv6
  int refuse_fd_ = -1;   // 127.0.0.1:port6_, bound but not listening
  int port6_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> accepted_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;  // guarded by mutex_
};

}  // namespace stress
}  // namespace llmrelay

#endif  // LLMRELAY_TEST_STRESS_SSE_SERVER_H_

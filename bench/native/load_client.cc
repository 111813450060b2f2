// SSE load client for the benchmark: one thread, epoll, N keep-alive HTTP/1.1
// connections in a closed loop (each sends its next request when a stream ends).
//
// It checks every stream by content: the mock provider sends the token sequence
// of bench_common.h, so the client knows which bytes must arrive and records the
// arrival time of each token as its last byte lands. A missing, reordered or
// altered token makes the stream corrupt; a stream that ends early loses the rest.
// Coalesced events (several tokens in one SSE event or one text chunk) are fine.
//
// Modes (how the body is read):
//   sse        the relay's downstream format: data: {"type":"text","text":"…"}, a
//              {"type":"finish",…} event and data: [DONE]
//   text       plain text (the AI SDK's pipeTextStreamToResponse)
//   openai     OpenAI chat.completion.chunk events (direct to the mock)
//   anthropic  Anthropic Messages events (direct to the mock)
//
// Timing: either a time window (--warmup-ms then --window-ms) or a request count
// (--requests, the first --warmup-requests excluded). At the window's edges it
// samples the CPU time of every --watch name=pid process from /proc, prints
// WINDOW_START / WINDOW_END on stderr, and at the end prints one JSON object on
// stdout. Streams still open when the run ends are cut (their prefix is checked,
// nothing is counted lost for them).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"

namespace llmrelay_bench {
namespace {

enum class Mode { kSse, kText, kOpenAI, kAnthropic };

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/chat";
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  Mode mode = Mode::kSse;
  int conns = 1;
  uint64_t tokens = 100;
  uint64_t ramp_ms = 0;
  uint64_t warmup_ms = 0;
  uint64_t window_ms = 1000;
  uint64_t requests = 0;  // 0: time window
  uint64_t warmup_requests = 0;
  uint64_t grace_ms = 0;
  uint64_t max_ms = 0;
  uint64_t sample_ms = 200;
  std::vector<std::pair<std::string, int>> watch;
};

// Decodes a JSON string body starting just after the opening quote. Returns the
// index just past the closing quote, or npos when the string is malformed.
size_t DecodeJsonString(std::string_view s, size_t i, std::string* out) {
  out->clear();
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && s[run] != '"' && s[run] != '\\') ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) return std::string_view::npos;
    if (s[i] == '"') return i + 1;
    if (i + 1 >= s.size()) return std::string_view::npos;
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        auto hex4 = [&](size_t at, uint32_t* v) {
          if (at + 4 > s.size()) return false;
          *v = 0;
          for (size_t k = 0; k < 4; ++k) {
            char h = s[at + k];
            *v <<= 4;
            if (h >= '0' && h <= '9')
              *v |= static_cast<uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f')
              *v |= static_cast<uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              *v |= static_cast<uint32_t>(h - 'A' + 10);
            else
              return false;
          }
          return true;
        };
        uint32_t cp;
        if (!hex4(i, &cp)) return std::string_view::npos;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
          uint32_t lo;
          if (hex4(i + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default: return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// Skips one JSON value (not a string) at i: object, array, number or literal.
size_t SkipJsonValue(std::string_view s, size_t i) {
  int depth = 0;
  while (i < s.size()) {
    char ch = s[i];
    if (ch == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
      ++i;
      continue;
    }
    if (ch == '{' || ch == '[') ++depth;
    if (ch == '}' || ch == ']') {
      if (depth == 0) return i;
      --depth;
      if (depth == 0) return i + 1;
    }
    if (ch == ',' && depth == 0) return i;
    ++i;
  }
  return i;
}

// Reads "type" and "text" of a top-level JSON object in any key order.
bool ScanTypeAndText(std::string_view s, std::string* type, std::string* text, std::string* scratch) {
  type->clear();
  text->clear();
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  ws();
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  for (;;) {
    ws();
    if (i < s.size() && s[i] == '}') return true;
    if (i >= s.size() || s[i] != '"') return false;
    i = DecodeJsonString(s, i + 1, scratch);
    if (i == std::string_view::npos) return false;
    std::string key = *scratch;
    ws();
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    ws();
    if (i < s.size() && s[i] == '"') {
      i = DecodeJsonString(s, i + 1, scratch);
      if (i == std::string_view::npos) return false;
      if (key == "type")
        type->swap(*scratch);
      else if (key == "text")
        text->swap(*scratch);
    } else {
      i = SkipJsonValue(s, i);
    }
    ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return true;
    return false;
  }
}

struct ProcSample {
  ProcCpu start;
  ProcCpu end;
  uint64_t rss_max_kb = 0;
};

enum class BodyKind { kChunked, kLength, kUntilClose };
enum class ChunkState { kSize, kData, kDataEnd, kTrailer };

struct Conn {
  int fd = -1;
  int index = 0;
  bool connected = false;
  bool in_request = false;  // a request was sent and its response has not ended
  bool dead = false;
  bool opened_once = false;
  uint64_t next_start_ns = 0;
  std::string out;
  size_t out_off = 0;
  // response
  bool head_done = false;
  std::string head;
  int status = 0;
  BodyKind body_kind = BodyKind::kUntilClose;
  uint64_t body_left = 0;
  bool server_close = false;
  ChunkState chunk_state = ChunkState::kSize;
  uint64_t chunk_left = 0;
  std::string chunk_line;
  // SSE
  std::string line;
  std::string data;
  std::string event;
  bool has_data = false;
  // stream check
  uint64_t sent_ns = 0;
  uint64_t tok_idx = 0;
  size_t tok_off = 0;
  uint64_t last_tok_ns = 0;
  bool corrupt = false;
  bool done_seen = false;
  bool finish_seen = false;
  std::string body_head;  // first bytes of the body, quoted in first_error when the stream fails
};

class Client {
 public:
  explicit Client(Options o) : o_(std::move(o)) {}

  int Run();

 private:
  void BuildRequest();
  void OpenConn(Conn* c);
  void CloseConn(Conn* c, bool abortive);
  void StartRequest(Conn* c);
  void OnWritable(Conn* c);
  void OnReadable(Conn* c, uint64_t now);
  bool ParseResponse(Conn* c, const char* p, size_t n, uint64_t now);
  void Body(Conn* c, const char* p, size_t n, uint64_t now);
  void SseBytes(Conn* c, const char* p, size_t n, uint64_t now);
  void SseLine(Conn* c, std::string_view line, uint64_t now);
  void SseDispatch(Conn* c, uint64_t now);
  void Match(Conn* c, const char* p, size_t n, uint64_t now);
  void EndResponse(Conn* c, bool clean);
  void ResetResponse(Conn* c);
  bool MayStartRequest() const;
  void WindowStart(uint64_t now);
  void WindowEnd(uint64_t now);
  void SampleRss();
  void SetEvents(Conn* c, uint32_t events);
  void PrintResult(uint64_t now);

  Options o_;
  std::string request_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int epfd_ = -1;
  size_t closed_ = 0;  // connections closed and waiting to reopen
  uint64_t t0_ = 0;
  bool window_active_ = false;
  bool window_done_ = false;
  bool stopping_ = false;
  uint64_t window_start_ns_ = 0;
  uint64_t window_end_ns_ = 0;
  uint64_t stop_ns_ = 0;
  uint64_t last_sample_ns_ = 0;
  std::vector<ProcSample> procs_;
  rusage self_start_{};
  rusage self_end_{};
  std::string scratch_type_, scratch_text_, scratch_key_;

  Histogram ttft_;
  Histogram gap_;
  uint64_t requests_started_ = 0;
  uint64_t requests_done_ = 0;
  uint64_t streams_completed_ = 0;
  uint64_t streams_cut_ = 0;
  uint64_t http_errors_ = 0;
  uint64_t conn_errors_ = 0;
  uint64_t tokens_total_ = 0;
  uint64_t tokens_window_ = 0;
  uint64_t lost_tokens_ = 0;
  uint64_t extra_tokens_ = 0;
  uint64_t corrupt_streams_ = 0;
  uint64_t short_streams_ = 0;
  uint64_t missing_done_ = 0;
  uint64_t missing_finish_ = 0;
  uint64_t error_events_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t window_bytes_start_ = 0;
  uint64_t window_bytes_ = 0;
  std::string first_error_;
};

void Client::BuildRequest() {
  request_ = o_.method + " " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
             "\r\nAccept: text/event-stream\r\nConnection: keep-alive\r\n";
  for (const auto& h : o_.headers) request_ += h + "\r\n";
  if (!o_.body.empty() || o_.method == "POST") {
    request_ += "Content-Type: application/json\r\nContent-Length: " + std::to_string(o_.body.size()) + "\r\n";
  }
  request_ += "\r\n";
  request_ += o_.body;
}

void Client::SetEvents(Conn* c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void Client::OpenConn(Conn* c) {
  if (c->opened_once && closed_ > 0) --closed_;
  c->opened_once = true;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o_.port));
  inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr);
  c->connected = false;
  c->dead = false;
  int r = connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (r != 0 && errno != EINPROGRESS) {
    ++conn_errors_;
    if (first_error_.empty()) first_error_ = std::string("connect: ") + std::strerror(errno);
    close(c->fd);
    c->fd = -1;
    c->dead = true;
    ++closed_;
    c->next_start_ns = NowNs() + 100000000ULL;  // retry in 100 ms
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd, &ev);
}

void Client::CloseConn(Conn* c, bool abortive) {
  if (c->fd < 0) return;
  if (abortive) {
    // RST instead of FIN: no TIME_WAIT pile-up across many runs, and the server
    // sees the disconnect at once.
    linger l{1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  c->fd = -1;
  c->dead = true;
  c->connected = false;
  ++closed_;
}

bool Client::MayStartRequest() const {
  if (stopping_ || window_done_) return false;
  if (o_.requests > 0 && requests_started_ >= o_.requests) return false;
  return true;
}

void Client::ResetResponse(Conn* c) {
  c->head_done = false;
  c->head.clear();
  c->status = 0;
  c->body_kind = BodyKind::kUntilClose;
  c->body_left = 0;
  c->server_close = false;
  c->chunk_state = ChunkState::kSize;
  c->chunk_left = 0;
  c->chunk_line.clear();
  c->line.clear();
  c->data.clear();
  c->event.clear();
  c->has_data = false;
  c->tok_idx = 0;
  c->tok_off = 0;
  c->last_tok_ns = 0;
  c->corrupt = false;
  c->done_seen = false;
  c->finish_seen = false;
  c->body_head.clear();
}

void Client::StartRequest(Conn* c) {
  ResetResponse(c);
  c->in_request = true;
  ++requests_started_;
  c->out.assign(request_);
  c->out_off = 0;
  // Stamped before write(): the mock shares this core, and a server woken by the
  // write may preempt us before write() returns, so a stamp taken after it would
  // hide the server's whole response time.
  c->sent_ns = NowNs();
  OnWritable(c);
}

void Client::OnWritable(Conn* c) {
  if (!c->connected) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ++conn_errors_;
      if (first_error_.empty()) first_error_ = std::string("connect: ") + std::strerror(err);
      CloseConn(c, false);
      c->next_start_ns = NowNs() + 100000000ULL;
      return;
    }
    c->connected = true;
    SetEvents(c, EPOLLIN | EPOLLRDHUP);
    if (MayStartRequest()) StartRequest(c);
    return;
  }
  while (c->out_off < c->out.size()) {
    ssize_t n = write(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      SetEvents(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return;
    }
    ++conn_errors_;
    EndResponse(c, false);
    CloseConn(c, false);
    return;
  }
  SetEvents(c, EPOLLIN | EPOLLRDHUP);
}

void Client::Match(Conn* c, const char* p, size_t n, uint64_t now) {
  if (c->corrupt) return;
  while (n > 0) {
    const std::string& t = TokenText(c->tok_idx);
    size_t need = t.size() - c->tok_off;
    size_t k = std::min(need, n);
    if (std::memcmp(t.data() + c->tok_off, p, k) != 0) {
      c->corrupt = true;
      if (first_error_.empty()) {
        first_error_ = "content mismatch at token " + std::to_string(c->tok_idx) + ": expected \"" + t + "\" got \"" +
                       std::string(p, std::min<size_t>(n, 24)) + "\"";
      }
      return;
    }
    c->tok_off += k;
    p += k;
    n -= k;
    if (c->tok_off == t.size()) {
      if (window_active_) {
        if (c->tok_idx == 0) {
          ttft_.Add(now - c->sent_ns);
        } else {
          gap_.Add(now - c->last_tok_ns);
        }
        ++tokens_window_;
      }
      ++tokens_total_;
      c->last_tok_ns = now;
      ++c->tok_idx;
      c->tok_off = 0;
    }
  }
}

void Client::SseDispatch(Conn* c, uint64_t now) {
  std::string_view d(c->data);
  bool is_error_event = c->event == "error";
  if (is_error_event) ++error_events_;
  if (d == "[DONE]") {
    c->done_seen = true;
  } else if (o_.mode == Mode::kSse) {
    if (ScanTypeAndText(d, &scratch_type_, &scratch_text_, &scratch_key_)) {
      if (scratch_type_ == "text") {
        Match(c, scratch_text_.data(), scratch_text_.size(), now);
      } else if (scratch_type_ == "finish") {
        c->finish_seen = true;
      } else if (scratch_type_ == "error") {
        ++error_events_;
      }
    } else if (!is_error_event) {
      ++error_events_;
      if (first_error_.empty()) first_error_ = "unparsable event: " + std::string(d.substr(0, 80));
    }
    if (is_error_event && first_error_.empty()) first_error_ = "error event: " + std::string(d.substr(0, 160));
  } else if (o_.mode == Mode::kOpenAI) {
    size_t k = d.find("\"content\":");
    if (k != std::string_view::npos && k + 10 < d.size() && d[k + 10] == '"') {
      if (DecodeJsonString(d, k + 11, &scratch_text_) != std::string_view::npos) {
        Match(c, scratch_text_.data(), scratch_text_.size(), now);
      }
    }
    if (d.find("\"finish_reason\":\"") != std::string_view::npos) c->finish_seen = true;
  } else if (o_.mode == Mode::kAnthropic) {
    static constexpr std::string_view kDelta = "\"type\":\"text_delta\",\"text\":\"";
    size_t k = d.find(kDelta);
    if (k != std::string_view::npos) {
      if (DecodeJsonString(d, k + kDelta.size(), &scratch_text_) != std::string_view::npos) {
        Match(c, scratch_text_.data(), scratch_text_.size(), now);
      }
    } else if (d.find("\"type\":\"message_stop\"") != std::string_view::npos) {
      c->done_seen = true;
      c->finish_seen = true;
    }
  }
  c->data.clear();
  c->event.clear();
  c->has_data = false;
}

void Client::SseLine(Conn* c, std::string_view line, uint64_t now) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    if (c->has_data) SseDispatch(c, now);
    c->event.clear();
    return;
  }
  if (line[0] == ':') return;
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (c->has_data) c->data.push_back('\n');
    c->data.append(value.data(), value.size());
    c->has_data = true;
  } else if (field == "event") {
    c->event.assign(value.data(), value.size());
  }
}

void Client::SseBytes(Conn* c, const char* p, size_t n, uint64_t now) {
  while (n > 0) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    if (!nl) {
      c->line.append(p, n);
      return;
    }
    size_t k = static_cast<size_t>(nl - p);
    if (c->line.empty()) {
      SseLine(c, std::string_view(p, k), now);
    } else {
      c->line.append(p, k);
      SseLine(c, c->line, now);
      c->line.clear();
    }
    p += k + 1;
    n -= k + 1;
  }
}

void Client::Body(Conn* c, const char* p, size_t n, uint64_t now) {
  if (n == 0) return;
  if (c->body_head.size() < 240) c->body_head.append(p, std::min<size_t>(n, 240 - c->body_head.size()));
  if (o_.mode == Mode::kText) {
    Match(c, p, n, now);
  } else {
    SseBytes(c, p, n, now);
  }
}

void Client::EndResponse(Conn* c, bool clean) {
  if (!c->in_request) return;
  c->in_request = false;
  ++requests_done_;
  bool cut = !clean && stopping_;
  if (cut) {
    ++streams_cut_;
    if (c->corrupt) ++corrupt_streams_;
  } else if (c->status != 200) {
    ++http_errors_;
    lost_tokens_ += o_.tokens;
    if (first_error_.empty()) {
      first_error_ = c->status ? "HTTP status " + std::to_string(c->status) + "; body began: " + c->body_head
                               : std::string("connection ended before a response");
    }
  } else {
    ++streams_completed_;
    if (c->corrupt) ++corrupt_streams_;
    if (c->tok_idx < o_.tokens) {
      lost_tokens_ += o_.tokens - c->tok_idx;
      ++short_streams_;
      if (first_error_.empty()) {
        first_error_ = "stream ended after " + std::to_string(c->tok_idx) + " of " + std::to_string(o_.tokens) +
                       " tokens; " +
                       (c->body_head.empty() ? std::string("the body was empty") : "body began: " + c->body_head);
      }
    } else if (c->tok_idx > o_.tokens) {
      extra_tokens_ += c->tok_idx - o_.tokens;
    }
    if (o_.mode != Mode::kText) {
      if (!c->finish_seen) ++missing_finish_;
      if (!c->done_seen && (o_.mode == Mode::kSse || o_.mode == Mode::kOpenAI)) ++missing_done_;
    }
  }
  if (o_.requests > 0 && !window_active_ && !window_done_ && requests_done_ >= o_.warmup_requests) {
    WindowStart(NowNs());
  }
  if (o_.requests > 0 && window_active_ && requests_done_ >= o_.requests) WindowEnd(NowNs());
}

// Returns false when the connection was closed.
bool Client::ParseResponse(Conn* c, const char* p, size_t n, uint64_t now) {
  while (n > 0) {
    if (!c->head_done) {
      size_t before = c->head.size();
      c->head.append(p, n);
      size_t end = c->head.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c->head.size() > 65536) {
          CloseConn(c, true);
          return false;
        }
        return true;
      }
      size_t used = end + 4 - before;
      p += used;
      n -= used;
      c->head.resize(end + 2);
      c->status = std::atoi(c->head.c_str() + 9);
      if (c->status == 100) {  // 100 Continue: the real head follows
        c->head.clear();
        continue;
      }
      std::string lower = c->head;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
        c->body_kind = BodyKind::kChunked;
      } else if (size_t k = lower.find("\r\ncontent-length:"); k != std::string::npos) {
        c->body_kind = BodyKind::kLength;
        c->body_left = std::strtoull(lower.c_str() + k + 17, nullptr, 10);
      } else {
        c->body_kind = BodyKind::kUntilClose;
      }
      c->server_close = lower.find("\r\nconnection: close") != std::string::npos;
      c->head_done = true;
      if (c->body_kind == BodyKind::kLength && c->body_left == 0) {
        EndResponse(c, true);
        return true;
      }
      continue;
    }
    if (!c->in_request) {
      // Bytes after a finished response that nobody asked for.
      CloseConn(c, true);
      return false;
    }
    if (c->body_kind == BodyKind::kUntilClose) {
      Body(c, p, n, now);
      return true;
    }
    if (c->body_kind == BodyKind::kLength) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, c->body_left));
      Body(c, p, k, now);
      c->body_left -= k;
      p += k;
      n -= k;
      if (c->body_left == 0) EndResponse(c, true);
      continue;
    }
    switch (c->chunk_state) {
      case ChunkState::kSize: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
        size_t k = nl ? static_cast<size_t>(nl - p) + 1 : n;
        c->chunk_line.append(p, k);
        p += k;
        n -= k;
        if (!nl) break;
        c->chunk_left = std::strtoull(c->chunk_line.c_str(), nullptr, 16);
        c->chunk_line.clear();
        c->chunk_state = c->chunk_left == 0 ? ChunkState::kTrailer : ChunkState::kData;
        break;
      }
      case ChunkState::kData: {
        size_t k = static_cast<size_t>(std::min<uint64_t>(n, c->chunk_left));
        Body(c, p, k, now);
        c->chunk_left -= k;
        p += k;
        n -= k;
        if (c->chunk_left == 0) {
          c->chunk_state = ChunkState::kDataEnd;
          c->chunk_left = 2;
        }
        break;
      }
      case ChunkState::kDataEnd: {
        size_t k = static_cast<size_t>(std::min<uint64_t>(n, c->chunk_left));
        c->chunk_left -= k;
        p += k;
        n -= k;
        if (c->chunk_left == 0) c->chunk_state = ChunkState::kSize;
        break;
      }
      case ChunkState::kTrailer: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
        size_t k = nl ? static_cast<size_t>(nl - p) + 1 : n;
        c->chunk_line.append(p, k);
        p += k;
        n -= k;
        if (!nl) break;
        bool empty = c->chunk_line == "\r\n" || c->chunk_line == "\n";
        c->chunk_line.clear();
        if (empty) {
          c->chunk_state = ChunkState::kSize;
          EndResponse(c, true);
        }
        break;
      }
    }
  }
  return true;
}

void Client::OnReadable(Conn* c, uint64_t now) {
  char buf[65536];
  for (int rounds = 0; rounds < 8; ++rounds) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      bytes_in_ += static_cast<uint64_t>(n);
      if (!ParseResponse(c, buf, static_cast<size_t>(n), now)) return;
      if (!c->in_request) break;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EOF or error: a body read until close ends cleanly here; anything else is cut short.
    bool clean = c->head_done && c->body_kind == BodyKind::kUntilClose && n == 0;
    if (!clean && c->in_request && !stopping_) {
      ++conn_errors_;
      if (first_error_.empty()) first_error_ = n == 0 ? "server closed mid-response" : std::strerror(errno);
    }
    EndResponse(c, clean);
    CloseConn(c, false);
    c->next_start_ns = now;
    return;
  }
  if (!c->in_request && c->fd >= 0) {
    if (c->server_close) {
      CloseConn(c, false);
      c->next_start_ns = now;
    } else if (MayStartRequest()) {
      StartRequest(c);
    }
  }
}

void Client::WindowStart(uint64_t now) {
  window_active_ = true;
  window_start_ns_ = now;
  window_bytes_start_ = bytes_in_;
  for (auto& ps : procs_) ps = ProcSample{};
  for (size_t i = 0; i < o_.watch.size(); ++i) {
    procs_[i].start = ReadProcCpu(o_.watch[i].second);
    procs_[i].rss_max_kb = procs_[i].start.rss_kb;
  }
  getrusage(RUSAGE_SELF, &self_start_);
  std::fprintf(stderr, "WINDOW_START\n");
  std::fflush(stderr);
}

void Client::WindowEnd(uint64_t now) {
  if (!window_active_) return;
  window_active_ = false;
  window_done_ = true;
  window_end_ns_ = now;
  window_bytes_ = bytes_in_ - window_bytes_start_;
  for (size_t i = 0; i < o_.watch.size(); ++i) {
    procs_[i].end = ReadProcCpu(o_.watch[i].second);
    procs_[i].rss_max_kb = std::max(procs_[i].rss_max_kb, procs_[i].end.rss_kb);
  }
  getrusage(RUSAGE_SELF, &self_end_);
  std::fprintf(stderr, "WINDOW_END\n");
  std::fflush(stderr);
  stopping_ = true;
  stop_ns_ = now + o_.grace_ms * 1000000ULL;
}

void Client::SampleRss() {
  for (size_t i = 0; i < o_.watch.size(); ++i) {
    ProcCpu p = ReadProcCpu(o_.watch[i].second);
    if (p.ok) procs_[i].rss_max_kb = std::max(procs_[i].rss_max_kb, p.rss_kb);
  }
}

uint64_t TvNs(const timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL + static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
}

void Client::PrintResult(uint64_t now) {
  if (window_start_ns_ != 0 && window_end_ns_ == 0) WindowEnd(now);
  double window_s =
      window_end_ns_ > window_start_ns_ ? static_cast<double>(window_end_ns_ - window_start_ns_) / 1e9 : 0;
  auto hist = [](const Histogram& h) {
    char b[320];
    std::snprintf(b, sizeof b,
                  "{\"count\":%llu,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%llu,\"mean\":%.1f}",
                  static_cast<unsigned long long>(h.count()), h.Percentile(0.5), h.Percentile(0.9), h.Percentile(0.99),
                  h.Percentile(0.999), static_cast<unsigned long long>(h.MaxUs()), h.MeanUs());
    return std::string(b);
  };
  std::string err;
  for (char ch : first_error_) {
    if (ch == '"' || ch == '\\') err.push_back('\\');
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    err.push_back(ch);
  }
  std::printf("{\"conns\":%d,\"tokens_per_stream\":%llu,\"window_s\":%.4f,", o_.conns,
              static_cast<unsigned long long>(o_.tokens), window_s);
  std::printf(
      "\"requests_started\":%llu,\"streams_completed\":%llu,\"streams_cut\":%llu,\"http_errors\":%llu,"
      "\"conn_errors\":%llu,\"tokens_total\":%llu,\"tokens_window\":%llu,\"bytes_window\":%llu,"
      "\"lost_tokens\":%llu,\"extra_tokens\":%llu,\"corrupt_streams\":%llu,\"short_streams\":%llu,"
      "\"missing_done\":%llu,\"missing_finish\":%llu,\"error_events\":%llu,",
      static_cast<unsigned long long>(requests_started_), static_cast<unsigned long long>(streams_completed_),
      static_cast<unsigned long long>(streams_cut_), static_cast<unsigned long long>(http_errors_),
      static_cast<unsigned long long>(conn_errors_), static_cast<unsigned long long>(tokens_total_),
      static_cast<unsigned long long>(tokens_window_), static_cast<unsigned long long>(window_bytes_),
      static_cast<unsigned long long>(lost_tokens_), static_cast<unsigned long long>(extra_tokens_),
      static_cast<unsigned long long>(corrupt_streams_), static_cast<unsigned long long>(short_streams_),
      static_cast<unsigned long long>(missing_done_), static_cast<unsigned long long>(missing_finish_),
      static_cast<unsigned long long>(error_events_));
  std::printf("\"first_error\":\"%s\",\"ttft_us\":%s,\"gap_us\":%s,", err.c_str(), hist(ttft_).c_str(),
              hist(gap_).c_str());
  std::printf("\"procs\":{");
  for (size_t i = 0; i < o_.watch.size(); ++i) {
    const ProcSample& p = procs_[i];
    bool ok = p.start.ok && p.end.ok;
    uint64_t threads = p.end.threads_ns > p.start.threads_ns ? p.end.threads_ns - p.start.threads_ns : 0;
    uint64_t stat = p.end.stat_ns > p.start.stat_ns ? p.end.stat_ns - p.start.stat_ns : 0;
    std::printf(
        "%s\"%s\":{\"ok\":%s,\"main_cpu_ns\":%llu,\"threads_cpu_ns\":%llu,\"stat_cpu_ns\":%llu,"
        "\"rss_start_kb\":%llu,\"rss_end_kb\":%llu,\"rss_max_kb\":%llu,\"threads\":%d}",
        i ? "," : "", o_.watch[i].first.c_str(), ok ? "true" : "false",
        static_cast<unsigned long long>(ok ? p.end.main_ns - p.start.main_ns : 0),
        static_cast<unsigned long long>(threads), static_cast<unsigned long long>(stat),
        static_cast<unsigned long long>(p.start.rss_kb), static_cast<unsigned long long>(p.end.rss_kb),
        static_cast<unsigned long long>(p.rss_max_kb), p.end.threads);
  }
  uint64_t self_ns =
      (TvNs(self_end_.ru_utime) + TvNs(self_end_.ru_stime)) - (TvNs(self_start_.ru_utime) + TvNs(self_start_.ru_stime));
  std::printf("},\"client_cpu_ns\":%llu}\n", static_cast<unsigned long long>(window_end_ns_ ? self_ns : 0));
  std::fflush(stdout);
}

int Client::Run() {
  BuildRequest();
  procs_.resize(o_.watch.size());
  epfd_ = epoll_create1(EPOLL_CLOEXEC);

  t0_ = NowNs();
  uint64_t max_ms =
      o_.max_ms ? o_.max_ms : (o_.requests ? 300000 : o_.ramp_ms + o_.warmup_ms + o_.window_ms + o_.grace_ms + 30000);
  uint64_t hard_stop = t0_ + max_ms * 1000000ULL;
  for (int i = 0; i < o_.conns; ++i) {
    auto c = std::make_unique<Conn>();
    c->index = i;
    c->dead = true;
    c->next_start_ns =
        t0_ + (o_.conns > 1 ? o_.ramp_ms * 1000000ULL * static_cast<uint64_t>(i) / static_cast<uint64_t>(o_.conns) : 0);
    conns_.push_back(std::move(c));
  }
  if (o_.requests > 0 && o_.warmup_requests == 0) WindowStart(t0_);
  size_t next_to_open = 0;
  std::vector<epoll_event> events(1024);
  for (;;) {
    uint64_t now = NowNs();
    if (o_.requests == 0) {
      if (!window_active_ && !window_done_ && now >= t0_ + (o_.ramp_ms + o_.warmup_ms) * 1000000ULL) {
        WindowStart(now);
      }
      if (window_active_ && now >= window_start_ns_ + o_.window_ms * 1000000ULL) WindowEnd(now);
    }
    if (window_active_ && now >= last_sample_ns_ + o_.sample_ms * 1000000ULL) {
      SampleRss();
      last_sample_ns_ = now;
    }
    if (now >= hard_stop && !stopping_) {
      if (first_error_.empty()) first_error_ = "hard time limit reached";
      WindowEnd(now);
      stopping_ = true;
      stop_ns_ = now;
    }
    if (stopping_) {
      bool any = false;
      for (auto& c : conns_) any = any || (c->in_request && c->fd >= 0);
      if (!any || now >= stop_ns_) break;
    }
    // Open (or reopen) connections whose start time has come. The epoll timeout
    // runs to the next such moment: no periodic tick, since on a VM every wakeup
    // costs tens of microseconds of the core the mock shares.
    uint64_t next_due = now + 50000000ULL;
    if (!stopping_) {
      while (next_to_open < conns_.size() && conns_[next_to_open]->next_start_ns <= now) {
        OpenConn(conns_[next_to_open].get());
        ++next_to_open;
      }
      if (next_to_open < conns_.size()) next_due = std::min(next_due, conns_[next_to_open]->next_start_ns);
      if (closed_ > 0) {
        for (size_t i = 0; i < next_to_open; ++i) {
          Conn* c = conns_[i].get();
          if (c->fd >= 0) continue;
          if (c->next_start_ns <= now && MayStartRequest()) {
            OpenConn(c);
          } else {
            next_due = std::min(next_due, c->next_start_ns);
          }
        }
      }
    } else {
      next_due = std::min(next_due, stop_ns_);
    }
    if (o_.requests == 0 && !window_done_) {
      uint64_t edge = window_active_ ? window_start_ns_ + o_.window_ms * 1000000ULL
                                     : t0_ + (o_.ramp_ms + o_.warmup_ms) * 1000000ULL;
      next_due = std::min(next_due, edge);
    }
    if (window_active_) next_due = std::min<uint64_t>(next_due, last_sample_ns_ + o_.sample_ms * 1000000ULL);
    next_due = std::min(next_due, hard_stop);
    int timeout_ms = next_due > now ? static_cast<int>((next_due - now + 999999ULL) / 1000000ULL) : 0;
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    now = NowNs();
    for (int i = 0; i < n; ++i) {
      Conn* c = static_cast<Conn*>(events[i].data.ptr);
      if (c->fd < 0) continue;
      uint32_t ev = events[i].events;
      if (ev & EPOLLOUT) OnWritable(c);
      if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) OnReadable(c, now);
    }
  }
  uint64_t now = NowNs();
  for (auto& c : conns_) {
    if (c->fd >= 0) {
      EndResponse(c.get(), false);
      CloseConn(c.get(), true);
    }
  }
  PrintResult(now);
  return 0;
}

bool ParseMode(const std::string& s, Mode* m) {
  if (s == "sse")
    *m = Mode::kSse;
  else if (s == "text")
    *m = Mode::kText;
  else if (s == "openai")
    *m = Mode::kOpenAI;
  else if (s == "anthropic")
    *m = Mode::kAnthropic;
  else
    return false;
  return true;
}

}  // namespace
}  // namespace llmrelay_bench

int main(int argc, char** argv) {
  using llmrelay_bench::Options;
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "load-client: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto num = [&]() { return std::strtoull(next().c_str(), nullptr, 10); };
    if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = static_cast<int>(num());
    else if (a == "--path")
      o.path = next();
    else if (a == "--method")
      o.method = next();
    else if (a == "--body")
      o.body = next();
    else if (a == "--header")
      o.headers.push_back(next());
    else if (a == "--mode") {
      if (!llmrelay_bench::ParseMode(next(), &o.mode)) {
        std::fprintf(stderr, "load-client: --mode takes sse, text, openai or anthropic\n");
        return 2;
      }
    } else if (a == "--conns")
      o.conns = static_cast<int>(num());
    else if (a == "--tokens")
      o.tokens = num();
    else if (a == "--ramp-ms")
      o.ramp_ms = num();
    else if (a == "--warmup-ms")
      o.warmup_ms = num();
    else if (a == "--window-ms")
      o.window_ms = num();
    else if (a == "--requests")
      o.requests = num();
    else if (a == "--warmup-requests")
      o.warmup_requests = num();
    else if (a == "--grace-ms")
      o.grace_ms = num();
    else if (a == "--max-ms")
      o.max_ms = num();
    else if (a == "--sample-ms")
      o.sample_ms = std::max<uint64_t>(10, num());
    else if (a == "--watch") {
      std::string w = next();
      size_t eq = w.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "load-client: --watch takes name=pid\n");
        return 2;
      }
      o.watch.emplace_back(w.substr(0, eq), std::atoi(w.c_str() + eq + 1));
    } else {
      std::fprintf(stderr, "load-client: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (o.port <= 0 || o.conns <= 0) {
    std::fprintf(stderr, "load-client: --port and --conns are required\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  llmrelay_bench::RaiseFdLimit();
  o.watch.emplace_back("client", static_cast<int>(getpid()));
  llmrelay_bench::Client client(std::move(o));
  return client.Run();
}

// Mock LLM provider for the benchmark: one thread, epoll, a hashed timer wheel so
// thousands of paced streams cost one list walk per millisecond, and pre-rendered
// events so sending a token is a memcpy into the connection's output buffer.
//
// Wire formats follow docs/wire-formats.md: OpenAI Chat Completions chunks of about
// 300 bytes (obfuscation, system_fingerprint, service_tier, usage chunk, [DONE]) and
// Anthropic Messages events (message_start ... message_stop, with a ping).
// HTTP/1.1 (chunked, keep-alive, pipelining) and, when built with libnghttp2,
// HTTP/2 with prior knowledge (h2c) on the same port, detected by the preface.
//
// Knobs per request, in a path prefix so any SDK's baseURL can carry them:
//   POST /k/tokens=200,pace_us=20000,ttft_us=0,epw=1/v1/chat/completions   (OpenAI)
//   (first=N starts the token sequence at index N, for the later steps of a multi-step relay)
//   POST /k/.../v1/messages                                                 (Anthropic)
// Defaults come from the command line. pace_us=0 is a burst: events are produced
// as fast as the socket drains. The wheel ticks every millisecond, so pace_us is
// rounded to whole milliseconds.
//   GET /stats   JSON counters (streams active, completed, aborted, bytes)
// Usage: mock-provider [--port 0] [--tokens N] [--pace-us N] [--ttft-us N] [--epw N]
//        mock-provider --dump openai|anthropic --tokens N     (body bytes to stdout)
// Prints "LISTENING <port>" on stdout once it accepts connections.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <unordered_map>

#include "bench_common.h"

#ifdef LLMRELAY_BENCH_H2
#include <nghttp2/nghttp2.h>
#endif

namespace llmrelay_bench {
namespace {

enum class Provider { kOpenAI, kAnthropic };

struct Params {
  uint64_t tokens = 200;
  uint64_t first = 0;  // index of the first token: a later step of a multi-step relay goes on
  uint64_t pace_us = 20000;
  uint64_t ttft_us = 0;
  uint32_t epw = 1;
};

// ---------------------------------------------------------------------------
// Pre-rendered events.

constexpr uint32_t kRingEvents = 1024;  // a multiple of kTokenWordCount
constexpr const char* kOpenAIHead =
    "data: {\"id\":\"chatcmpl-C3bK9xQ0mZ7nLrT2vW4yP8sD1fGhJk\",\"object\":\"chat.completion.chunk\","
    "\"created\":1754499881,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_34a54ae93c\",";

// One event per token index modulo kRingEvents, laid out back to back so a run of
// consecutive tokens is one or two contiguous slices.
class EventRing {
 public:
  void Build(Provider provider, uint32_t seed) {
    std::mt19937 rng(seed);
    static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    offsets_.clear();
    data_.clear();
    for (uint32_t i = 0; i < kRingEvents; ++i) {
      offsets_.push_back(static_cast<uint32_t>(data_.size()));
      const std::string& text = TokenText(i);
      if (provider == Provider::kOpenAI) {
        data_.append(kOpenAIHead);
        data_.append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
        AppendJsonEscaped(&data_, text);
        data_.append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"");
        // OpenAI pads short deltas so every chunk has about the same size.
        size_t pad = text.size() < 14 ? 16 - text.size() : 2;
        for (size_t k = 0; k < pad; ++k) data_.push_back(kAlnum[rng() % (sizeof kAlnum - 1)]);
        data_.append("\"}\n\n");
      } else {
        data_.append(
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"");
        AppendJsonEscaped(&data_, text);
        data_.append("\"}}\n\n");
      }
    }
    offsets_.push_back(static_cast<uint32_t>(data_.size()));
  }

  // Appends the events of tokens [from, to).
  void Append(std::string* out, uint64_t from, uint64_t to) const {
    while (from < to) {
      uint32_t a = static_cast<uint32_t>(from % kRingEvents);
      uint64_t run = std::min<uint64_t>(to - from, kRingEvents - a);
      uint32_t b = a + static_cast<uint32_t>(run);
      out->append(data_, offsets_[a], offsets_[b] - offsets_[a]);
      from += run;
    }
  }

  size_t MeanEventBytes() const { return data_.size() / kRingEvents; }

 private:
  std::string data_;
  std::vector<uint32_t> offsets_;
};

void AppendPrologue(Provider provider, std::string* out) {
  if (provider == Provider::kOpenAI) {
    out->append(kOpenAIHead);
    out->append(
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"Qx9V3e\"}\n\n");
  } else {
    out->append(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
        "\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        "\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
        "\"usage\":{\"input_tokens\":19,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
        "\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: ping\ndata: {\"type\": \"ping\"}\n\n");
  }
}

void AppendEpilogue(Provider provider, uint64_t tokens, std::string* out) {
  char buf[768];
  if (provider == Provider::kOpenAI) {
    out->append(kOpenAIHead);
    out->append(
        "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"usage\":null,\"obfuscation\":\"mQ2fWc\"}\n\n");
    out->append(kOpenAIHead);
    std::snprintf(buf, sizeof buf,
                  "\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":%llu,"
                  "\"total_tokens\":%llu,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                  "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
                  "\"obfuscation\":\"Zp4\"}\n\ndata: [DONE]\n\n",
                  static_cast<unsigned long long>(tokens), static_cast<unsigned long long>(tokens + 19));
    out->append(buf);
  } else {
    std::snprintf(buf, sizeof buf,
                  "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                  "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%llu}}\n\n"
                  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                  static_cast<unsigned long long>(tokens));
    out->append(buf);
  }
}

// ---------------------------------------------------------------------------
// Timer wheel: 1 ms ticks, 4096 slots. A node due beyond one revolution stays in
// its slot and is skipped until its tick comes, so scheduling is O(1) and a tick
// costs the nodes in one slot.

struct Stream;

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  uint64_t due_tick = 0;
  Stream* owner = nullptr;
  bool linked() const { return prev != nullptr; }
};

class TimerWheel {
 public:
  static constexpr uint64_t kSlots = 4096;
  explicit TimerWheel(uint64_t now_tick) : heads_(kSlots), current_(now_tick) {
    for (auto& h : heads_) h.prev = h.next = &h;
  }
  uint64_t current() const { return current_; }
  size_t size() const { return size_; }

  void Schedule(TimerNode* n, uint64_t due_tick) {
    Cancel(n);
    if (due_tick <= current_) due_tick = current_ + 1;
    n->due_tick = due_tick;
    Link(n);
  }

  void Cancel(TimerNode* n) {
    if (!n->linked()) return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    --size_;
  }

  // Fires every node due at or before now_tick; fire() may reschedule the node.
  template <typename Fire>
  void Advance(uint64_t now_tick, Fire&& fire) {
    // After a long stall, catch up at most one revolution (every slot once).
    if (now_tick > current_ + kSlots) current_ = now_tick - kSlots;
    while (current_ < now_tick) {
      ++current_;
      TimerNode& h = heads_[current_ % kSlots];
      if (h.next == &h) continue;
      // Detach the slot first: fire() may insert into this very slot.
      TimerNode pending;
      pending.next = h.next;
      pending.prev = h.prev;
      pending.next->prev = &pending;
      pending.prev->next = &pending;
      h.prev = h.next = &h;
      while (pending.next != &pending) {
        TimerNode* n = pending.next;
        pending.next = n->next;
        n->next->prev = &pending;
        n->prev = n->next = nullptr;
        --size_;
        if (n->due_tick > current_) {
          Link(n);
        } else {
          fire(n->owner);
        }
      }
    }
  }

 private:
  void Link(TimerNode* n) {
    TimerNode& h = heads_[n->due_tick % kSlots];
    n->prev = h.prev;
    n->next = &h;
    h.prev->next = n;
    h.prev = n;
    ++size_;
  }

  std::vector<TimerNode> heads_;
  uint64_t current_;
  size_t size_ = 0;
};

// ---------------------------------------------------------------------------

struct Counters {
  uint64_t streams_started = 0;
  uint64_t streams_completed = 0;
  uint64_t streams_aborted = 0;
  uint64_t streams_active = 0;
  uint64_t tokens_out = 0;
  uint64_t bytes_out = 0;
  uint64_t conns_open = 0;
  uint64_t conns_total = 0;
  uint64_t h2_conns_total = 0;
  uint64_t bad_requests = 0;
};

struct Conn;

struct Stream {
  TimerNode timer;
  Conn* conn = nullptr;
  Provider provider = Provider::kOpenAI;
  Params params;
  uint64_t next_token = 0;
  bool started = false;   // the response has begun (after time to first token)
  bool finished = false;  // every byte of the body has been produced
  int32_t h2_id = 0;
  std::string path;
  // HTTP/2: body bytes produced and not yet taken by nghttp2.
  std::string h2_pending;
  size_t h2_off = 0;
  bool h2_deferred = false;
  Stream() { timer.owner = this; }
};

enum class Proto { kUnknown, kH1, kH2 };

#ifdef LLMRELAY_BENCH_H2
struct H2SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
#endif

struct Conn {
  int fd = -1;
  Proto proto = Proto::kUnknown;
  bool dead = false;
  bool want_out = false;
  bool close_after_flush = false;
  bool sent_continue = false;
  std::string in;
  std::string out;
  size_t out_off = 0;
  std::unique_ptr<Stream> h1_stream;  // the response being sent (HTTP/1.1)
  std::unordered_map<int32_t, std::unique_ptr<Stream>> h2_streams;
#ifdef LLMRELAY_BENCH_H2
  // Declared last so it is destroyed first: nghttp2 may still point at streams.
  std::unique_ptr<nghttp2_session, H2SessionDeleter> h2;
#endif
};

class Server {
 public:
  explicit Server(Params defaults) : defaults_(defaults), wheel_(NowNs() / 1000000ULL) {
    openai_.Build(Provider::kOpenAI, 7);
    anthropic_.Build(Provider::kAnthropic, 11);
  }

  int Listen(int port);
  void Run();
  void Dump(Provider p, uint64_t tokens);

  // Called from the nghttp2 callbacks.
  void OnH2RequestComplete(Stream* s);
  void ProduceH2Burst(Stream* s, size_t want);
  void DestroyStreamState(Stream* s);

 private:
  void ArmTimer();
  void Accept();
  void Close(Conn* c);
  void OnReadable(Conn* c);
  void OnWritable(Conn* c);
  void SetWantOut(Conn* c, bool want);
  void Flush(Conn* c);
  bool WantsMoreOutput(Conn* c) const;

  void ProcessH1(Conn* c);
  void HandleH1Request(Conn* c, const std::string& method, const std::string& path);
  void RespondH1Simple(Conn* c, const char* status, const std::string& body);
  bool ParseRoute(const std::string& path, Stream* s) const;
  void BeginStream(Stream* s);  // counts it and waits for the time to first token
  void StartResponse(Stream* s);
  void OnTimer(Stream* s);
  uint64_t ProduceBatch(Stream* s, std::string* body, uint64_t max_tokens);
  void AppendH1Chunk(Conn* c, const std::string& body);
  void FinishH1(Conn* c);
  void ProduceH1Burst(Stream* s);
  std::string StatsJson() const;
  const EventRing& Ring(Provider p) const { return p == Provider::kOpenAI ? openai_ : anthropic_; }
  uint64_t PaceTicks(const Stream* s) const { return std::max<uint64_t>(1, (s->params.pace_us + 500) / 1000); }

  bool StartH2(Conn* c);
  bool FeedH2(Conn* c, const char* data, size_t len);
  void SendH2(Conn* c);

  Params defaults_;
  EventRing openai_;
  EventRing anthropic_;
  TimerWheel wheel_;
  Counters counters_;
  int listen_fd_ = -1;
  int epfd_ = -1;
  int timer_fd_ = -1;
  bool timer_armed_ = false;
  char listen_tag_ = 0;
  char timer_tag_ = 0;
  std::string scratch_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  // Closed connections live until the end of the epoll batch, since a later
  // event of the same batch may still name them.
  std::vector<std::unique_ptr<Conn>> graveyard_;
};

Server* g_server = nullptr;

int Server::Listen(int port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  if (listen(listen_fd_, 4096) != 0) return -1;
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &listen_tag_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.ptr = &timer_tag_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  return ntohs(addr.sin_port);
}

void Server::Run() {
  std::vector<epoll_event> events(1024);
  for (;;) {
    ArmTimer();
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return;
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &listen_tag_) {
        Accept();
      } else if (tag == &timer_tag_) {
        uint64_t expirations;
        while (read(timer_fd_, &expirations, sizeof expirations) > 0) {
        }
        wheel_.Advance(NowNs() / 1000000ULL, [this](Stream* s) { OnTimer(s); });
      } else {
        Conn* c = static_cast<Conn*>(tag);
        if (c->dead) continue;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) OnReadable(c);
        if (!c->dead && (events[i].events & EPOLLOUT)) OnWritable(c);
      }
    }
    graveyard_.clear();
  }
}

void Server::Dump(Provider p, uint64_t tokens) {
  std::string out;
  AppendPrologue(p, &out);
  for (uint64_t t = 0; t < tokens; t += 4096) {
    Ring(p).Append(&out, t, std::min(tokens, t + 4096));
    if (out.size() > (1u << 20)) {
      fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  AppendEpilogue(p, tokens, &out);
  fwrite(out.data(), 1, out.size(), stdout);
  fflush(stdout);
}

void Server::ArmTimer() {
  // The 1 ms tick runs only while some stream waits on the wheel.
  bool want = wheel_.size() > 0;
  if (want == timer_armed_) return;
  if (want) wheel_.Advance(NowNs() / 1000000ULL, [this](Stream* s) { OnTimer(s); });
  itimerspec its{};
  if (want) {
    its.it_interval.tv_nsec = 1000000;
    its.it_value.tv_nsec = 1000000;
  }
  timerfd_settime(timer_fd_, 0, &its, nullptr);
  timer_armed_ = want;
}

void Server::Accept() {
  for (int i = 0; i < 256; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c.get();
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    ++counters_.conns_open;
    ++counters_.conns_total;
    conns_.emplace(fd, std::move(c));
  }
}

void Server::DestroyStreamState(Stream* s) {
  wheel_.Cancel(&s->timer);
  if (!s->finished) {
    s->finished = true;
    --counters_.streams_active;
    ++counters_.streams_aborted;
  }
}

void Server::Close(Conn* c) {
  if (c->dead) return;
  c->dead = true;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  if (c->h1_stream) DestroyStreamState(c->h1_stream.get());
  for (auto& kv : c->h2_streams) DestroyStreamState(kv.second.get());
  --counters_.conns_open;
  auto it = conns_.find(c->fd);
  graveyard_.push_back(std::move(it->second));
  conns_.erase(it);
}

void Server::OnReadable(Conn* c) {
  char buf[65536];
  for (int rounds = 0; rounds < 16; ++rounds) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      if (c->proto == Proto::kH2) {
        if (!FeedH2(c, buf, static_cast<size_t>(n))) return;
      } else {
        c->in.append(buf, static_cast<size_t>(n));
      }
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) {
      Close(c);
      return;
    }
    break;
  }
  if (c->proto == Proto::kUnknown) {
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    size_t k = std::min(c->in.size(), sizeof kPreface - 1);
    if (c->in.compare(0, k, kPreface, k) == 0) {
      if (k < sizeof kPreface - 1) return;  // wait for the whole preface
      if (!StartH2(c)) return;
    } else {
      c->proto = Proto::kH1;
    }
  }
  if (c->proto == Proto::kH1) ProcessH1(c);
}

bool Server::WantsMoreOutput(Conn* c) const {
  if (c->proto == Proto::kH1) {
    return c->h1_stream && c->h1_stream->started && c->h1_stream->params.pace_us == 0 && !c->h1_stream->finished;
  }
#ifdef LLMRELAY_BENCH_H2
  if (c->proto == Proto::kH2 && c->h2) return nghttp2_session_want_write(c->h2.get()) != 0;
#endif
  return false;
}

void Server::OnWritable(Conn* c) {
  Flush(c);
  if (c->dead || c->out_off < c->out.size()) return;
  // A burst produces more only once the socket has drained: the consumer's read
  // speed paces it, so memory stays bounded.
  if (c->proto == Proto::kH1 && c->h1_stream && c->h1_stream->started && c->h1_stream->params.pace_us == 0) {
    ProduceH1Burst(c->h1_stream.get());
    Flush(c);
    if (!c->dead && !c->h1_stream) ProcessH1(c);
  } else if (c->proto == Proto::kH2) {
    SendH2(c);
  }
}

void Server::SetWantOut(Conn* c, bool want) {
  if (c->want_out == want) return;
  c->want_out = want;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? static_cast<uint32_t>(EPOLLOUT) : 0U);
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void Server::Flush(Conn* c) {
  while (c->out_off < c->out.size()) {
    ssize_t n = write(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      counters_.bytes_out += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      SetWantOut(c, true);
      return;
    }
    Close(c);
    return;
  }
  c->out.clear();
  c->out_off = 0;
  if (c->out.capacity() > (4u << 20)) c->out.shrink_to_fit();
  bool more = WantsMoreOutput(c);
  SetWantOut(c, more);
  if (c->close_after_flush && !more && !c->h1_stream) Close(c);
}

// ---- HTTP/1.1

bool HeaderIs(std::string_view line, std::string_view lower_name) {
  if (line.size() <= lower_name.size() || line[lower_name.size()] != ':') return false;
  for (size_t i = 0; i < lower_name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != lower_name[i]) return false;
  }
  return true;
}

std::string HeaderValue(std::string_view line, size_t name_len) {
  std::string_view v = line.substr(name_len + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string out(v);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Bytes of a complete chunked body starting at `pos`, or 0 while incomplete.
size_t ChunkedBodyLength(const std::string& in, size_t pos) {
  size_t p = pos;
  for (int guard = 0; guard < 100000; ++guard) {
    size_t eol = in.find("\r\n", p);
    if (eol == std::string::npos) return 0;
    uint64_t size = std::strtoull(in.c_str() + p, nullptr, 16);
    p = eol + 2;
    if (size == 0) {
      for (;;) {  // trailers end with an empty line
        size_t e = in.find("\r\n", p);
        if (e == std::string::npos) return 0;
        if (e == p) return e + 2 - pos;
        p = e + 2;
      }
    }
    if (in.size() < p + size + 2) return 0;
    p += size + 2;
  }
  return 0;
}

void Server::ProcessH1(Conn* c) {
  // One response at a time; pipelined requests wait in `in`.
  while (!c->dead && !c->h1_stream && !c->close_after_flush) {
    size_t head_end = c->in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (c->in.size() > 65536) Close(c);
      return;
    }
    std::string_view head(c->in.data(), head_end + 2);
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 <= sp1) {
      Close(c);
      return;
    }
    std::string method(request_line.substr(0, sp1));
    std::string path(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    uint64_t content_length = 0;
    bool chunked = false, close_conn = false, expect_continue = false;
    size_t p = line_end + 2;
    while (p < head.size()) {
      size_t e = head.find("\r\n", p);
      std::string_view line = head.substr(p, e - p);
      p = e + 2;
      if (HeaderIs(line, "content-length")) {
        content_length = std::strtoull(HeaderValue(line, 14).c_str(), nullptr, 10);
      } else if (HeaderIs(line, "transfer-encoding")) {
        chunked = HeaderValue(line, 17).find("chunked") != std::string::npos;
      } else if (HeaderIs(line, "connection")) {
        close_conn = HeaderValue(line, 10).find("close") != std::string::npos;
      } else if (HeaderIs(line, "expect")) {
        expect_continue = true;
      }
    }
    size_t body_start = head_end + 4;
    size_t body_len = chunked ? ChunkedBodyLength(c->in, body_start) : content_length;
    if ((chunked && body_len == 0) || c->in.size() < body_start + body_len) {
      if (expect_continue && !c->sent_continue) {
        c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
        c->sent_continue = true;
        Flush(c);
      }
      return;
    }
    c->in.erase(0, body_start + body_len);
    c->sent_continue = false;
    if (close_conn) c->close_after_flush = true;
    HandleH1Request(c, method, path);
  }
}

void Server::RespondH1Simple(Conn* c, const char* status, const std::string& body) {
  char head[256];
  std::snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                status, body.size());
  c->out.append(head);
  c->out.append(body);
  Flush(c);
}

void Server::HandleH1Request(Conn* c, const std::string& method, const std::string& path) {
  if (method == "GET" && path == "/stats") {
    RespondH1Simple(c, "200 OK", StatsJson());
    return;
  }
  auto s = std::make_unique<Stream>();
  if (method != "POST" || !ParseRoute(path, s.get())) {
    ++counters_.bad_requests;
    RespondH1Simple(c, "404 Not Found",
                    "{\"error\":{\"message\":\"unknown route or knob\",\"type\":\"invalid_request_error\"}}");
    return;
  }
  s->conn = c;
  Stream* raw = s.get();
  c->h1_stream = std::move(s);
  BeginStream(raw);
}

bool Server::ParseRoute(const std::string& path, Stream* s) const {
  s->params = defaults_;
  std::string_view rest(path);
  size_t q = rest.find('?');
  if (q != std::string_view::npos) rest = rest.substr(0, q);
  if (rest.substr(0, 3) == "/k/") {
    rest.remove_prefix(3);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    std::string knobs(rest.substr(0, slash));
    rest.remove_prefix(slash);
    size_t start = 0;
    while (start < knobs.size()) {
      size_t comma = knobs.find(',', start);
      if (comma == std::string::npos) comma = knobs.size();
      std::string kv = knobs.substr(start, comma - start);
      start = comma + 1;
      size_t eq = kv.find('=');
      if (eq == std::string::npos) return false;
      std::string k = kv.substr(0, eq);
      uint64_t v = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
      if (k == "tokens") {
        s->params.tokens = v;
      } else if (k == "first") {
        s->params.first = v;
        s->next_token = v;
      } else if (k == "pace_us") {
        s->params.pace_us = v;
      } else if (k == "ttft_us") {
        s->params.ttft_us = v;
      } else if (k == "epw") {
        s->params.epw = static_cast<uint32_t>(std::max<uint64_t>(1, v));
      } else {
        return false;
      }
    }
  }
  auto ends_with = [&](std::string_view suffix) {
    return rest.size() >= suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix;
  };
  if (ends_with("/chat/completions")) {
    s->provider = Provider::kOpenAI;
  } else if (ends_with("/messages")) {
    s->provider = Provider::kAnthropic;
  } else {
    return false;
  }
  return true;
}

void Server::BeginStream(Stream* s) {
  ++counters_.streams_started;
  ++counters_.streams_active;
  if (s->params.ttft_us > 0) {
    wheel_.Schedule(&s->timer, wheel_.current() + (s->params.ttft_us + 999) / 1000);
  } else {
    StartResponse(s);
  }
}

uint64_t Server::ProduceBatch(Stream* s, std::string* body, uint64_t max_tokens) {
  const uint64_t end = s->params.first + s->params.tokens;
  uint64_t to = std::min(end, s->next_token + max_tokens);
  Ring(s->provider).Append(body, s->next_token, to);
  uint64_t n = to - s->next_token;
  s->next_token = to;
  counters_.tokens_out += n;
  if (s->next_token >= end && !s->finished) {
    AppendEpilogue(s->provider, s->params.tokens, body);
    s->finished = true;
    --counters_.streams_active;
    ++counters_.streams_completed;
  }
  return n;
}

void Server::AppendH1Chunk(Conn* c, const std::string& body) {
  char size[24];
  int k = std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  c->out.append(size, static_cast<size_t>(k));
  c->out.append(body);
  c->out.append("\r\n");
}

void Server::FinishH1(Conn* c) {
  c->out.append("0\r\n\r\n");
  c->h1_stream.reset();
}

void Server::ProduceH1Burst(Stream* s) {
  Conn* c = s->conn;
  // About 256 KiB per call: bounded work, then back to epoll.
  while (c->out.size() - c->out_off < (256u << 10) && !s->finished) {
    scratch_.clear();
    ProduceBatch(s, &scratch_, s->params.epw);
    AppendH1Chunk(c, scratch_);
  }
  if (s->finished) FinishH1(c);
}

// Sends the response head, the prologue events and the first batch of tokens.
void Server::StartResponse(Stream* s) {
  s->started = true;
  Conn* c = s->conn;
  if (c->proto == Proto::kH1) {
    if (s->provider == Provider::kOpenAI) {
      c->out.append(
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
          "Cache-Control: no-cache, must-revalidate\r\nx-request-id: req_8f7a3c2e91b04d5e\r\n"
          "openai-processing-ms: 87\r\nopenai-version: 2020-10-01\r\nx-ratelimit-limit-requests: 10000\r\n"
          "x-ratelimit-remaining-requests: 9999\r\nx-ratelimit-reset-requests: 6ms\r\n");
    } else {
      c->out.append(
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
          "Cache-Control: no-cache\r\nrequest-id: req_011CPz6fZk9w7qSt5Yc7vQ2e\r\n"
          "anthropic-ratelimit-requests-limit: 4000\r\nanthropic-ratelimit-requests-remaining: 3999\r\n");
    }
    c->out.append(c->close_after_flush ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
    scratch_.clear();
    AppendPrologue(s->provider, &scratch_);
    if (s->params.pace_us == 0) {
      AppendH1Chunk(c, scratch_);
      ProduceH1Burst(s);  // may finish and reset the stream
    } else {
      ProduceBatch(s, &scratch_, s->params.epw);
      AppendH1Chunk(c, scratch_);
      if (s->finished) {
        FinishH1(c);
      } else {
        wheel_.Schedule(&s->timer, wheel_.current() + PaceTicks(s));
      }
    }
    Flush(c);
    if (!c->dead && !c->h1_stream) ProcessH1(c);
    return;
  }
#ifdef LLMRELAY_BENCH_H2
  AppendPrologue(s->provider, &s->h2_pending);
  if (s->params.pace_us > 0) {
    ProduceBatch(s, &s->h2_pending, s->params.epw);
    if (!s->finished) wheel_.Schedule(&s->timer, wheel_.current() + PaceTicks(s));
  }
  static const char kCt[] = "text/event-stream; charset=utf-8";
  nghttp2_nv nva[] = {
      {const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
       const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>("200")), 7, 3, NGHTTP2_NV_FLAG_NONE},
      {const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>("content-type")),
       const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(kCt)), 12, sizeof kCt - 1, NGHTTP2_NV_FLAG_NONE},
  };
  nghttp2_data_provider prd{};
  prd.source.ptr = s;
  prd.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                         nghttp2_data_source* src, void*) -> ssize_t {
    Stream* st = static_cast<Stream*>(src->ptr);
    if (st->h2_off >= st->h2_pending.size()) {
      st->h2_pending.clear();
      st->h2_off = 0;
      if (!st->finished && st->params.pace_us == 0) g_server->ProduceH2Burst(st, length);
    }
    size_t avail = st->h2_pending.size() - st->h2_off;
    if (avail == 0) {
      if (st->finished) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
      }
      st->h2_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = std::min(avail, length);
    std::memcpy(buf, st->h2_pending.data() + st->h2_off, n);
    st->h2_off += n;
    if (st->h2_off >= st->h2_pending.size() && st->finished) *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->h2_off > (64u << 10)) {
      st->h2_pending.erase(0, st->h2_off);
      st->h2_off = 0;
    }
    return static_cast<ssize_t>(n);
  };
  nghttp2_submit_response(c->h2.get(), s->h2_id, nva, 2, &prd);
#endif
}

void Server::ProduceH2Burst(Stream* s, size_t want) {
  while (s->h2_pending.size() - s->h2_off < want && !s->finished) ProduceBatch(s, &s->h2_pending, s->params.epw);
}

void Server::OnTimer(Stream* s) {
  Conn* c = s->conn;
  if (!s->started) {
    StartResponse(s);
#ifdef LLMRELAY_BENCH_H2
    if (c->proto == Proto::kH2 && !c->dead) SendH2(c);
#endif
    return;
  }
  if (c->proto == Proto::kH1) {
    scratch_.clear();
    ProduceBatch(s, &scratch_, s->params.epw);
    AppendH1Chunk(c, scratch_);
    bool done = s->finished;
    if (done) {
      FinishH1(c);  // s is gone after this
    } else {
      // Due from the previous due tick, not from now: no drift.
      wheel_.Schedule(&s->timer, s->timer.due_tick + PaceTicks(s));
    }
    Flush(c);
    if (done && !c->dead) ProcessH1(c);
    return;
  }
#ifdef LLMRELAY_BENCH_H2
  ProduceBatch(s, &s->h2_pending, s->params.epw);
  if (!s->finished) wheel_.Schedule(&s->timer, s->timer.due_tick + PaceTicks(s));
  if (s->h2_deferred) {
    s->h2_deferred = false;
    nghttp2_session_resume_data(c->h2.get(), s->h2_id);
  }
  SendH2(c);
#endif
}

std::string Server::StatsJson() const {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "{\"streams_started\":%llu,\"streams_completed\":%llu,\"streams_aborted\":%llu,"
      "\"streams_active\":%llu,\"tokens_out\":%llu,\"bytes_out\":%llu,\"conns_open\":%llu,"
      "\"conns_total\":%llu,\"h2_conns_total\":%llu,\"bad_requests\":%llu,\"h2\":%s,"
      "\"openai_event_bytes\":%zu,\"anthropic_event_bytes\":%zu}",
      static_cast<unsigned long long>(counters_.streams_started),
      static_cast<unsigned long long>(counters_.streams_completed),
      static_cast<unsigned long long>(counters_.streams_aborted),
      static_cast<unsigned long long>(counters_.streams_active), static_cast<unsigned long long>(counters_.tokens_out),
      static_cast<unsigned long long>(counters_.bytes_out), static_cast<unsigned long long>(counters_.conns_open),
      static_cast<unsigned long long>(counters_.conns_total), static_cast<unsigned long long>(counters_.h2_conns_total),
      static_cast<unsigned long long>(counters_.bad_requests),
#ifdef LLMRELAY_BENCH_H2
      "true",
#else
      "false",
#endif
      openai_.MeanEventBytes(), anthropic_.MeanEventBytes());
  return buf;
}

// ---- HTTP/2 (h2c with prior knowledge)

#ifdef LLMRELAY_BENCH_H2

void Server::OnH2RequestComplete(Stream* s) {
  if (!ParseRoute(s->path, s)) {
    ++counters_.bad_requests;
    nghttp2_nv nva[] = {{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
                         const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>("404")), 7, 3, NGHTTP2_NV_FLAG_NONE}};
    s->finished = true;  // never counted as active
    nghttp2_submit_response(s->conn->h2.get(), s->h2_id, nva, 1, nullptr);
    return;
  }
  BeginStream(s);
}

bool Server::StartH2(Conn* c) {
  c->proto = Proto::kH2;
  ++counters_.h2_conns_total;
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      cbs, [](nghttp2_session* session, const nghttp2_frame* frame, void* user) -> int {
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
        Conn* conn = static_cast<Conn*>(user);
        auto s = std::make_unique<Stream>();
        s->conn = conn;
        s->h2_id = frame->hd.stream_id;
        s->finished = false;
        nghttp2_session_set_stream_user_data(session, s->h2_id, s.get());
        conn->h2_streams[s->h2_id] = std::move(s);
        return 0;
      });
  nghttp2_session_callbacks_set_on_header_callback(
      cbs,
      [](nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
         const uint8_t* value, size_t valuelen, uint8_t, void*) -> int {
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
        if (s && namelen == 5 && std::memcmp(name, ":path", 5) == 0) {
          s->path.assign(reinterpret_cast<const char*>(value), valuelen);
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      cbs, [](nghttp2_session* session, const nghttp2_frame* frame, void*) -> int {
        bool end = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                   (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
        if (!end) return 0;
        auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
        if (s) g_server->OnH2RequestComplete(s);
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      cbs, [](nghttp2_session*, int32_t stream_id, uint32_t, void* user) -> int {
        Conn* conn = static_cast<Conn*>(user);
        auto it = conn->h2_streams.find(stream_id);
        if (it != conn->h2_streams.end()) {
          g_server->DestroyStreamState(it->second.get());
          conn->h2_streams.erase(it);
        }
        return 0;
      });
  nghttp2_session* session = nullptr;
  nghttp2_session_server_new(&session, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  c->h2.reset(session);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100000},
                                       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 2);
  std::string pending;
  pending.swap(c->in);
  return FeedH2(c, pending.data(), pending.size());
}

bool Server::FeedH2(Conn* c, const char* data, size_t len) {
  ssize_t r = nghttp2_session_mem_recv(c->h2.get(), reinterpret_cast<const uint8_t*>(data), len);
  if (r < 0) {
    Close(c);
    return false;
  }
  SendH2(c);
  return !c->dead;
}

void Server::SendH2(Conn* c) {
  // Up to 1 MiB per call; EPOLLOUT stays armed while nghttp2 wants to write more.
  while (c->out.size() - c->out_off < (1u << 20)) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(c->h2.get(), &data);
    if (n < 0) {
      Close(c);
      return;
    }
    if (n == 0) break;
    c->out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  Flush(c);
  if (!c->dead && c->out_off >= c->out.size() && !nghttp2_session_want_read(c->h2.get()) &&
      !nghttp2_session_want_write(c->h2.get())) {
    Close(c);
  }
}

#else

void Server::OnH2RequestComplete(Stream*) {}
bool Server::StartH2(Conn* c) {
  // Built without libnghttp2: refuse HTTP/2 plainly.
  Close(c);
  return false;
}
bool Server::FeedH2(Conn* c, const char*, size_t) {
  Close(c);
  return false;
}
void Server::SendH2(Conn*) {}

#endif

}  // namespace
}  // namespace llmrelay_bench

int main(int argc, char** argv) {
  using llmrelay_bench::Params;
  using llmrelay_bench::Provider;
  Params defaults;
  int port = 0;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mock-provider: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port")
      port = std::atoi(next());
    else if (a == "--tokens")
      defaults.tokens = std::strtoull(next(), nullptr, 10);
    else if (a == "--pace-us")
      defaults.pace_us = std::strtoull(next(), nullptr, 10);
    else if (a == "--ttft-us")
      defaults.ttft_us = std::strtoull(next(), nullptr, 10);
    else if (a == "--epw")
      defaults.epw = static_cast<uint32_t>(std::max(1, std::atoi(next())));
    else if (a == "--dump")
      dump = next();
    else {
      std::fprintf(stderr, "mock-provider: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  llmrelay_bench::RaiseFdLimit();
  auto server = std::make_unique<llmrelay_bench::Server>(defaults);
  llmrelay_bench::g_server = server.get();
  if (!dump.empty()) {
    if (dump != "openai" && dump != "anthropic") {
      std::fprintf(stderr, "mock-provider: --dump takes openai or anthropic\n");
      return 2;
    }
    server->Dump(dump == "openai" ? Provider::kOpenAI : Provider::kAnthropic, defaults.tokens);
    return 0;
  }
  int bound = server->Listen(port);
  if (bound < 0) {
    std::perror("mock-provider: listen");
    return 1;
  }
  std::printf("LISTENING %d\n", bound);
  std::fflush(stdout);
  server->Run();
  return 1;
}

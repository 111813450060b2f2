// Stress test of the engine, the handoff and the commands, built on its own
// (LLMRELAY_STRESS=ON) and run under ThreadSanitizer by .ci/stages/tsan.sh and
// under AddressSanitizer by .ci/stages/asan.sh.
//
// The test thread plays Node's main thread exactly as src/binding/addon.cc
// does: it posts commands, waits for the handoff's wakeup, drains, and sends
// kResumeBacklog / kConsume where the binding would. Meanwhile the worker thread
// runs curl against an in-process SSE provider (sse_server.h). Starts,
// pauses, resumes, aborts, late modes, direct socket writes and shutdowns are
// fired at random moments, so they race whatever the worker is doing. Every
// stream must end exactly once, nothing may follow its end, and a complete
// answer must carry exactly the provider's text.
//
// Knobs (environment): LLMRELAY_STRESS_SEED (the seed of a failing run, which
// every failure prints), LLMRELAY_STRESS_SCALE (multiplies the stream counts).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "handoff/handoff.h"
#include "handoff/js_sink.h"
#include "sse_server.h"
#include "transport/engine.h"

namespace llmrelay {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using stress::ExpectedText;
using stress::SseServer;

const char* const kModes[] = {"text", "json", "sse", "ndjson"};

uint32_t Seed() {
  const char* env = std::getenv("LLMRELAY_STRESS_SEED");
  if (env != nullptr && *env != '\0') return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
  return std::random_device{}();
}

int Scale() {
  const char* env = std::getenv("LLMRELAY_STRESS_SCALE");
  const int scale = env != nullptr ? std::atoi(env) : 1;
  return scale > 0 ? scale : 1;
}

// The answer's text as a consumer of `mode` reads it back: the raw bytes for
// "text", the concatenated "text" fields of the Delta JSON otherwise (the
// stress provider's tokens need no JSON escaping).
std::string TextOf(const std::string& mode, const std::string& data) {
  if (mode == "text") return data;
  static constexpr std::string_view kKey = "\"type\":\"text\",\"text\":\"";
  std::string text;
  for (size_t pos = data.find(kKey); pos != std::string::npos; pos = data.find(kKey, pos)) {
    pos += kKey.size();
    const size_t end = data.find('"', pos);
    if (end == std::string::npos) break;
    text.append(data, pos, end - pos);
    pos = end;
  }
  return text;
}

// The body of an HTTP/1.1 chunked transfer; `complete` tells whether the
// last-chunk ended it. False when the framing is broken.
bool Dechunk(std::string_view bytes, std::string* body, bool* complete) {
  *complete = false;
  while (!bytes.empty()) {
    const size_t line_end = bytes.find("\r\n");
    if (line_end == std::string_view::npos) return false;
    char* end = nullptr;
    const std::string size_text(bytes.substr(0, line_end));
    const unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str() || *end != '\0') return false;
    bytes.remove_prefix(line_end + 2);
    if (size == 0) {
      *complete = bytes == "\r\n";
      return *complete;
    }
    if (bytes.size() < size + 2 || bytes.substr(size, 2) != "\r\n") return false;
    body->append(bytes.substr(0, size));
    bytes.remove_prefix(size + 2);
  }
  return true;
}

struct Stream {
  std::string mode;      // "" until a consumer chose it
  std::string expected;  // the text of the complete answer
  bool stall = false;    // the provider never finishes: must be aborted
  int status = 200;      // the provider's answer
  bool aborted = false;
  bool paused = false;
  std::string data;  // what the handoff delivered
  std::string end;   // the end record
  int ends = 0;
  int heads = 0;           // response heads delivered
  bool after_end = false;  // anything delivered after the end
  // Direct writes: our end of the "client" connection and what it received.
  int client_fd = -1;  // the socket the worker writes (Node's, in the addon)
  int peer_fd = -1;    // the browser's side
  std::string wire;
  std::string preamble;
  std::string history;  // commands sent and records received, for failure messages
  // Resumable relays: the log entries (Delta JSON) as the engine's log tick
  // handed them over, and whether their sequence numbers ever skipped.
  bool resumable = false;
  std::string log;
  uint64_t log_next = 1;
  bool log_gap = false;
  bool log_after_end = false;

  bool ok() const { return end.compare(0, 10, "{\"ok\":true") == 0; }
  std::string code() const {
    static constexpr std::string_view kKey = "\"code\":\"";
    const size_t at = end.find(kKey);
    if (at == std::string::npos) return {};
    const size_t from = at + kKey.size();
    return end.substr(from, end.find('"', from) - from);
  }
  std::string direct() const {
    static constexpr std::string_view kKey = "\"direct\":\"";
    const size_t at = end.find(kKey);
    if (at == std::string::npos) return {};
    const size_t from = at + kKey.size();
    return end.substr(from, end.find('"', from) - from);
  }
};

// Node's main thread, as src/binding/addon.cc drives the engine.
class Host {
 public:
  Host()
      : handoff_([this] { OnWake(); }), handoff_host_(&handoff_), engine_(std::make_unique<Engine>(&handoff_host_)) {}
  ~Host() {
    Shutdown();
    for (auto& entry : streams_) CloseClient(entry.second);
  }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Starts a stream; a non-empty `mode` chooses its consumer at once.
  uint32_t Start(const std::string& url, const std::string& mode) {
    auto config = std::make_unique<StreamConfig>();
    config->id = next_id_++;
    config->provider = "openai";
    config->request.url = url;
    config->request.method = "POST";
    config->request.body = "{\"model\":\"m\",\"messages\":[],\"stream\":true}";
    config->request.headers = {"Content-Type: application/json", "Authorization: Bearer k"};
    config->request.connect_ms = 10000;
    // Sanitized builds are slow: only the total deadline, and a fast retry.
    config->timeouts.connect_ms = 10000;
    config->timeouts.total_ms = 120000;
    config->retry.attempts = 1;
    config->retry.base_delay_ms = 1;
    config->retry.max_delay_ms = 2;
    config->max_event_bytes = size_t{8} << 20;
    Command command;
    command.kind = CommandKind::kStart;
    command.id = config->id;
    command.config = std::move(config);
    const uint32_t id = command.id;
    EXPECT_TRUE(engine_->Post(std::move(command)));
    streams_[id];
    if (!mode.empty()) ChooseMode(id, mode);
    return id;
  }

  void Send(CommandKind kind, uint32_t id) {
    streams_[id].history += std::string(" ") + std::string(CommandKindName(kind));
    Command command;
    command.kind = kind;
    command.id = id;
    engine_->Post(std::move(command));
  }

  // The consumer, chosen late (kConsume), unless one is chosen already.
  void ChooseMode(uint32_t id, const std::string& mode) {
    Stream& s = streams_[id];
    if (!s.mode.empty()) return;
    s.mode = mode;
    s.history += " CONSUME(" + mode + ")";
    Command command;
    command.kind = CommandKind::kConsume;
    command.id = id;
    command.consume.format = mode;
    engine_->Post(std::move(command));
  }

  // pipe() choosing worker writes: the worker writes the head and the body
  // to a socket pair standing in for the client's connection.
  bool Direct(uint32_t id, const std::string& mode, bool resumable = false) {
    Stream& s = streams_[id];
    if (!s.mode.empty() || s.ends != 0) return false;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
    ::fcntl(pair[1], F_SETFL, ::fcntl(pair[1], F_GETFL) | O_NONBLOCK);
    s.mode = mode;
    s.history += " CONSUME(" + mode + (resumable ? ", socket, resumable)" : ", socket)");
    s.resumable = resumable;
    s.client_fd = pair[0];
    s.peer_fd = pair[1];
    s.preamble = "HTTP/1.1 200 OK\r\nX-Stream: " + std::to_string(id) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
    Command command;
    command.kind = CommandKind::kConsume;
    command.id = id;
    command.consume.format = mode;
    RelaySpec& relay = command.consume.relay;
    // The worker gets its own duplicate, as the binding makes one; the
    // socket pair stays ours (Node's), closed when the host goes.
    relay.socket = UniqueFd(::fcntl(pair[0], F_DUPFD_CLOEXEC, 0));
    relay.preamble = s.preamble;
    if (mode == "sse") {  // as lib/server/node-relay.js: a comment, only where the format has them
      relay.heartbeat = ": ping\n\n";
      relay.heartbeat_ms = 5;
    }
    if (resumable) {  // as pipe(res, { resume }): sequence numbers from 1, the log on the pacer's ticks
      command.consume.first_seq = 1;
      command.consume.outlives_client = true;
    }
    engine_->Post(std::move(command));
    return true;
  }

  // Waits up to `timeout` for a wakeup, then drains like CallJs.
  void Pump(milliseconds timeout) {
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_cv_.wait_for(lock, timeout, [this] { return woken_; });
      woken_ = false;
    }
    ready_.clear();
    handoff_.Drain(ready_);
    for (Handoff::Ready& ready : ready_) Apply(ready.id, ready.box);
    ready_.clear();
    ReadClients();
  }

  // Pumps until every stream ended; false when `limit` passed first.
  bool PumpUntilEnded(milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!AllEnded()) {
      if (Clock::now() > deadline) return false;
      Pump(milliseconds(20));
    }
    return true;
  }

  bool AllEnded() const {
    for (const auto& entry : streams_) {
      if (entry.second.ends == 0) return false;
    }
    return true;
  }

  void Shutdown() { engine_->Shutdown(); }
  int backlog_pauses() const { return backlog_pauses_; }
  Engine& engine() { return *engine_; }
  std::map<uint32_t, Stream>& streams() { return streams_; }

  // Closes the stand-in client connection (Node ends the response).
  static void CloseClient(Stream& s) {
    if (s.client_fd >= 0) ::close(s.client_fd);
    if (s.peer_fd >= 0) ::close(s.peer_fd);
    s.client_fd = s.peer_fd = -1;
  }

 private:
  // Runs on the worker thread.
  void OnWake() {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    woken_ = true;
    wake_cv_.notify_one();
  }

  void Apply(uint32_t id, Outbox& box) {
    Stream& s = streams_[id];
    if (s.ends != 0 && (!box.data.empty() || !box.end.empty() || !box.head.empty())) s.after_end = true;
    s.history += " <" + std::string(box.head.empty() ? "" : "head ") + std::to_string(box.data.size()) + "B" +
                 (box.end.empty() ? "" : " end") + (box.parked ? " parked" : "") +
                 (box.backlog_paused ? " backlog" : "") + ">";
    if (!box.head.empty()) ++s.heads;
    s.data += box.data;
    if (box.log_count > 0) {
      if (s.ends != 0) s.log_after_end = true;
      if (box.log_first_seq != s.log_next) s.log_gap = true;
      s.log_next = box.log_first_seq + box.log_count;
      s.log += box.log;
    }
    if (!box.end.empty()) {
      ++s.ends;
      s.end = box.end;
      s.data += box.tail;
      ReadClient(s);  // the end comes after the socket took the last bytes
    }
    if (box.backlog_paused && box.end.empty()) {
      ++backlog_pauses_;
      Send(CommandKind::kResumeBacklog, id);
    }
    // A parked answer (complete before anyone chose a consumer): a late
    // reader arrives.
    if (box.parked && box.end.empty() && s.mode.empty()) ChooseMode(id, "text");
  }

  void ReadClient(Stream& s) {
    if (s.peer_fd < 0) return;
    char buf[16384];
    for (;;) {
      const ssize_t n = ::read(s.peer_fd, buf, sizeof buf);
      if (n <= 0) break;
      s.wire.append(buf, static_cast<size_t>(n));
    }
  }

  void ReadClients() {
    for (auto& entry : streams_) ReadClient(entry.second);
  }

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;  // guarded by wake_mutex_
  Handoff handoff_;
  HandoffHost handoff_host_;
  std::unique_ptr<Engine> engine_;
  std::vector<Handoff::Ready> ready_;
  std::map<uint32_t, Stream> streams_;
  uint32_t next_id_ = 1;
  int backlog_pauses_ = 0;  // handoffs the worker marked as over the backlog limit
};

// Checks everything a stream's record must satisfy once it ended.
void ExpectConsistent(uint32_t id, const Stream& s) {
  SCOPED_TRACE("stream " + std::to_string(id) + " mode '" + s.mode + "' end " + s.end + "\n  history:" + s.history);
  EXPECT_EQ(s.ends, 1);
  EXPECT_FALSE(s.after_end);
  EXPECT_LE(s.heads, 1);
  if (s.ok()) {
    EXPECT_FALSE(s.stall) << "a stream whose provider never finished completed";
    EXPECT_EQ(s.status, 200);
    // Through the handoff, the provider's head comes first; worker writes
    // send the head JavaScript built instead.
    if (s.direct().empty()) EXPECT_EQ(s.heads, 1) << "completed without the provider's response head";
  } else {
    // The only failures this provider causes: its error status, our abort.
    const std::string code = s.code();
    const bool expected = (s.status != 200 && code == "HTTP_STATUS") || (s.aborted && code == "ABORTED");
    EXPECT_TRUE(expected) << "unexpected failure " << code;
  }
  if (s.resumable) {
    // Every delta logged once, in order, before the end record; a complete
    // answer's log holds its whole text.
    EXPECT_FALSE(s.log_gap) << "the log skipped or repeated sequence numbers";
    EXPECT_FALSE(s.log_after_end) << "log entries after the end record";
    if (s.ok()) {
      EXPECT_EQ(TextOf("json", s.log), s.expected);
    } else {
      EXPECT_EQ(s.expected.compare(0, TextOf("json", s.log).size(), TextOf("json", s.log)), 0);
    }
  }
  const std::string direct = s.direct();
  if (direct.empty()) {
    // The worker wrote no socket (never asked to, or the stream had ended
    // when it was): every byte went through the handoff.
    EXPECT_TRUE(s.wire.empty()) << s.wire;
    // Bytes through the handoff: a complete answer has the whole text, and
    // any answer has a prefix of it, in order.
    const std::string text = TextOf(s.mode, s.data);
    if (s.ok()) {
      EXPECT_EQ(text, s.expected);
    } else {
      EXPECT_EQ(s.expected.compare(0, text.size(), text), 0) << "text is not a prefix of the answer: " << text;
    }
    return;
  }
  // Direct writes: the head first, then valid chunked framing; the
  // last-chunk exactly when the end record says "finished".
  ASSERT_EQ(s.wire.compare(0, s.preamble.size(), s.preamble), 0) << "the head did not come first: " << s.wire;
  std::string body;
  bool complete = false;
  const bool framed = Dechunk(std::string_view(s.wire).substr(s.preamble.size()), &body, &complete);
  if (direct == "finished") {
    EXPECT_TRUE(framed && complete) << s.wire;
  } else {
    EXPECT_FALSE(complete) << "last-chunk written but the end record says " << direct;
  }
  if (direct == "gone") return;  // the worker may have stopped mid-chunk
  EXPECT_TRUE(framed) << s.wire;
  // Heartbeats are SSE comments: invisible to TextOf.
  const std::string text = TextOf(s.mode, body);
  if (s.ok() && direct == "finished") {
    EXPECT_EQ(text, s.expected);
  } else {
    EXPECT_EQ(s.expected.compare(0, text.size(), text), 0) << "text is not a prefix of the answer: " << text;
  }
}

class EngineStress : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = Seed();
    rng_.seed(seed_);
    std::printf("[ stress   ] seed %u (LLMRELAY_STRESS_SEED=%u replays its random choices)\n", seed_, seed_);
    RecordProperty("seed", std::to_string(seed_));
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Pick(100) < percent; }

  // Starts `total` streams, at most `in_flight` at a time, and fires random
  // commands at the live ones until all ended. With `direct`, some consumers
  // take the worker-writes path.
  void RunRandomStreams(SseServer& server, Host& host, int total, int in_flight, bool direct) {
    int started = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (started < total || !host.AllEnded()) {
      if (Clock::now() > deadline) {
        std::string stuck;
        for (const auto& entry : host.streams()) {
          if (entry.second.ends == 0) stuck += "\n  stream " + std::to_string(entry.first) + ":" + entry.second.history;
        }
        FAIL() << "streams did not end within 120 s; seed " << seed_ << stuck;
      }
      int live = 0;
      for (auto& entry : host.streams()) live += entry.second.ends == 0 ? 1 : 0;
      while (started < total && live < in_flight && Chance(60)) {
        StartRandom(server, host);
        ++started;
        ++live;
      }
      for (auto& entry : host.streams()) {
        Stream& s = entry.second;
        if (s.ends != 0 || !Chance(25)) continue;
        const uint32_t id = entry.first;
        // Weighted: mostly pause/resume and consumers arriving, few aborts.
        const int roll = Pick(100);
        if (roll < 15) {
          host.Send(CommandKind::kPause, id);
          s.paused = true;
        } else if (roll < 40) {
          host.Send(CommandKind::kResume, id);
          s.paused = false;
        } else if (roll < 60) {
          if (direct) {
            host.Direct(id, Chance(50) ? "text" : "sse", Chance(50));
          } else {
            host.ChooseMode(id, kModes[Pick(4)]);
          }
        } else if (roll < 65 || (s.stall && roll < 80)) {
          host.Send(CommandKind::kAbort, id);
          s.aborted = true;
        } else if (roll < 70 && s.client_fd >= 0) {
          // The client left: the relay detaches its socket and aborts.
          host.Send(CommandKind::kDetach, id);
          host.Send(CommandKind::kAbort, id);
          s.aborted = true;
        }
      }
      // Streams that would never end by themselves get what they wait for.
      if (started == total) {
        for (auto& entry : host.streams()) {
          Stream& s = entry.second;
          if (s.ends != 0) continue;
          if (s.paused) {
            host.Send(CommandKind::kResume, entry.first);
            s.paused = false;
          }
          if (s.mode.empty()) host.ChooseMode(entry.first, kModes[Pick(4)]);
          if (s.stall && !s.aborted) {
            host.Send(CommandKind::kAbort, entry.first);
            s.aborted = true;
          }
        }
      }
      host.Pump(milliseconds(Pick(3)));
    }
    std::map<std::string, int> outcomes;
    for (const auto& entry : host.streams()) {
      const Stream& s = entry.second;
      ExpectConsistent(entry.first, s);
      std::string outcome = s.ok() ? "completed" : s.code();
      if (!s.direct().empty()) outcome += "/direct-" + s.direct();
      if (s.resumable) outcome += s.log.empty() ? "/resumable" : "/logged";
      ++outcomes[outcome];
    }
    std::string line;
    for (const auto& entry : outcomes) line += " " + entry.first + "=" + std::to_string(entry.second);
    std::printf("[ stress   ] %zu streams:%s\n", host.streams().size(), line.c_str());
    EXPECT_GT(outcomes["completed"], 0) << "no stream completed: the schedule tested nothing";
    if (direct) {
      EXPECT_GT(outcomes["completed/direct-finished/logged"], 0) << "no resumable relay completed with its log";
    }
  }

  void StartRandom(SseServer& server, Host& host) {
    const int tokens = 1 + Pick(40);
    const int size = Chance(10) ? 2000 : 0;
    const bool stall = Chance(10);
    const int status = !stall && Chance(5) ? 500 : 200;
    const int gap_us = Chance(30) ? Pick(2000) : 0;
    const std::string query = "tokens=" + std::to_string(tokens) + "&size=" + std::to_string(size) +
                              "&gap_us=" + std::to_string(gap_us) + (stall ? "&stall=1" : "") +
                              (status != 200 ? "&status=" + std::to_string(status) : "");
    // Half the streams choose their consumer up front, the rest later.
    const std::string mode = Chance(40) ? kModes[Pick(4)] : "";
    // Some connect only at the second try (a refused 127.0.0.1, then ::1).
    const uint32_t id = host.Start(server.Url(query, Chance(20)), mode);
    Stream& s = host.streams()[id];
    s.expected = ExpectedText(tokens, size);
    s.stall = stall;
    s.status = status;
    if (Chance(5)) {
      host.Send(CommandKind::kAbort, id);  // before the worker even saw the start
      s.aborted = true;
    }
  }

  // Waits until the provider saw every connection closed (bounded).
  static bool UpstreamsClosed(const SseServer& server, milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (server.open_connections() != 0) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

  uint32_t seed_ = 0;
  std::mt19937 rng_;
};

TEST(EngineBuild, UsesTheLibuvItWasCompiledAgainst) {
  // uv.h of one libuv version with the library of another would corrupt
  // every handle; the stress build links the system libuv and must see its
  // header, never Node's.
  EXPECT_EQ(uv_version(), static_cast<unsigned>(UV_VERSION_HEX)) << uv_version_string();
}

TEST_F(EngineStress, ManyStreamsEachEndOnceWithTheirOwnTextWhileCommandsRaceTheWorker) {
  SseServer server;
  const int rounds = 3;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    Host host;
    RunRandomStreams(server, host, 60 * Scale(), 24, /*direct=*/false);
  }
  EXPECT_TRUE(UpstreamsClosed(server, milliseconds(10000))) << server.open_connections() << " still open";
}

TEST_F(EngineStress, DirectWritesKeepTheirFramingWhileDetachAndAbortRace) {
  SseServer server;
  const int rounds = 2;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    Host host;
    RunRandomStreams(server, host, 40 * Scale(), 16, /*direct=*/true);
  }
  EXPECT_TRUE(UpstreamsClosed(server, milliseconds(10000))) << server.open_connections() << " still open";
}

TEST_F(EngineStress, AMainThreadThatStopsDrainingPausesTheTransferAndLosesNothing) {
  SseServer server;
  Host host;
  // 2.4 MB of text, more than the handoff's backlog limit (1 MiB).
  const uint32_t id = host.Start(server.Url("tokens=600&size=4096"), "text");
  host.streams()[id].expected = ExpectedText(600, 4096);
  std::this_thread::sleep_for(milliseconds(300));  // a busy main thread
  ASSERT_TRUE(host.PumpUntilEnded(milliseconds(60000)));
  ExpectConsistent(id, host.streams()[id]);
  EXPECT_GT(host.backlog_pauses(), 0) << "the backlog limit was never reached";
}

TEST_F(EngineStress, StreamsPausedAndResumedWhileTheirResponseHeadArrivesComplete) {
  // A pause that lands while curl reads the response head makes libcurl 7.x
  // hold the remaining header lines and replay them, on resume, as one chunk
  // of several lines to the header callback.
  SseServer server;
  Host host;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 20; ++i) {
    const uint32_t id = host.Start(server.Url("tokens=5"), kModes[i % 4]);
    host.streams()[id].expected = ExpectedText(5, 0);
    ids.push_back(id);
  }
  for (int round = 0; round < 40; ++round) {
    for (uint32_t id : ids) host.Send(round % 2 == 0 ? CommandKind::kPause : CommandKind::kResume, id);
    host.Pump(milliseconds(1));
  }
  for (uint32_t id : ids) host.Send(CommandKind::kResume, id);
  ASSERT_TRUE(host.PumpUntilEnded(milliseconds(30000)));
  for (uint32_t id : ids) {
    ExpectConsistent(id, host.streams()[id]);
    EXPECT_TRUE(host.streams()[id].ok()) << host.streams()[id].end;
  }
}

TEST_F(EngineStress, ShutdownWhileStreamsRunReturnsPromptlyAndClosesEveryUpstream) {
  SseServer server;
  for (int round = 0; round < 3 && !HasFailure(); ++round) {
    auto host = std::make_unique<Host>();
    for (int i = 0; i < 20 * Scale(); ++i) {
      const bool stall = Chance(50);
      host->Start(server.Url(std::string("tokens=30&gap_us=") + (stall ? "0&stall=1" : "500")),
                  Chance(50) ? kModes[Pick(4)] : "");
    }
    // Let some data flow, with commands still queued at shutdown.
    for (int i = 0; i < 5 + Pick(20); ++i) host->Pump(milliseconds(2));
    for (auto& entry : host->streams()) {
      if (Chance(30)) host->Send(CommandKind::kPause, entry.first);
      if (Chance(30)) host->Send(CommandKind::kAbort, entry.first);
    }
    const auto t0 = Clock::now();
    host->Shutdown();
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
    Command late;
    late.kind = CommandKind::kAbort;
    late.id = 1;
    EXPECT_FALSE(host->engine().Post(std::move(late))) << "a stopped engine took a command";
    host.reset();
  }
  EXPECT_TRUE(UpstreamsClosed(server, milliseconds(10000))) << server.open_connections() << " still open";
}

TEST_F(EngineStress, ShutdownRightAfterStartsAndCommandsStopsCleanly) {
  SseServer server;
  for (int round = 0; round < 20 * Scale() && !HasFailure(); ++round) {
    Host host;
    const int n = 1 + Pick(8);
    for (int i = 0; i < n; ++i) {
      const uint32_t id = host.Start(server.Url("tokens=50&gap_us=200"), Chance(50) ? "text" : "");
      if (Chance(50)) host.Send(CommandKind::kAbort, id);
      if (Chance(50)) host.Send(CommandKind::kPause, id);
    }
    if (Chance(50)) host.Pump(milliseconds(Pick(5)));
    // ~Host shuts the engine down with whatever is queued or running.
  }
  EXPECT_TRUE(UpstreamsClosed(server, milliseconds(10000))) << server.open_connections() << " still open";
}

}  // namespace
}  // namespace llmrelay

int main(int argc, char** argv) {
  // Once per process, before any thread, as the addon's Init does.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  curl_global_cleanup();
  return result;
}

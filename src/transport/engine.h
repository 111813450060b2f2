// The engine: one worker thread per Node environment, running its own
// uv_loop_t that drives a libcurl multi handle through the socket API
// (CURLMOPT_SOCKETFUNCTION → uv_poll_t, CURLMOPT_TIMERFUNCTION → uv_timer_t).
//
// Every curl handle belongs to the worker thread. The main thread only queues
// commands and wakes the worker with uv_async_send; each stream's output
// leaves through its chain of sinks (output/sink.h), whose last link the
// EngineHost provides (the handoff to JavaScript).
#ifndef LLMRELAY_TRANSPORT_ENGINE_H_
#define LLMRELAY_TRANSPORT_ENGINE_H_

#include <curl/curl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/records.h"
#include "output/log_pacer.h"
#include "output/relay_chain.h"
#include "output/sink.h"
#include "transport/stream_config.h"
#include "upstream/trust_store.h"

namespace llmrelay {

// What a JsSink publishes: Delta JSON for object mode, or bytes to write.
enum class OutputKind : uint8_t { kDeltaJson, kBytes };

// How JavaScript consumes a stream (CommandKind::kConsume).
struct ConsumeSpec {
  std::string format;  // "json" (object mode), "discard", or a relay format
  RelaySpec relay;     // relay formats: heartbeats, the client's socket
  // Resumable relays: every delta is logged with a sequence number from
  // first_seq on (0: not resumable), and a client that leaves does not end
  // the stream (it goes on for the log).
  uint64_t first_seq = 0;
  bool outlives_client = false;
  // Multi-step relays: this stream is one step of a larger message, under
  // the relay's message id ("" keeps the stream's own).
  EncoderRole role = EncoderRole::kWhole;
  std::string message_id;
};

// The engine's owner (the binding) provides the end of every sink chain.
class EngineHost {
 public:
  virtual ~EngineHost() = default;
  // Runs on the worker thread.
  virtual SinkPtr MakeJsSink(uint32_t id, OutputKind kind) = 0;
  // Runs on the worker thread after each loop callback that may have
  // published: wakes the main thread if anything is waiting for it.
  virtual void AfterPublish() = 0;
};

struct Command {
  CommandKind kind = CommandKind::kAbort;
  uint32_t id = 0;
  std::unique_ptr<StreamConfig> config;  // kStart
  ConsumeSpec consume;                   // kConsume
  std::string pem;                       // kTrustStore
};

class Transfer;

class Engine {
 public:
  explicit Engine(EngineHost* host);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Main thread. Queues a command and wakes the worker; starts the worker on
  // first use; false if it cannot start. With `wake` false the command waits
  // for the next Post that wakes, or for Wake(): lib/binding.js sends a
  // stream's START and the CONSUME that usually follows in the same turn of
  // the main loop with one wakeup of the worker instead of two.
  bool Post(Command command, bool wake = true);
  // Main thread. Wakes the worker if a command waits unsent.
  void Wake();
  // Main thread. Stops the worker, frees every curl handle, joins.
  void Shutdown();

  // Worker-thread internals used by Transfer (see engine.cc).
  CURLM* multi() const { return multi_; }
  CURLSH* share() const { return share_; }
  uv_loop_t* loop() { return &loop_; }
  EngineHost* host() const { return host_; }
  TrustStore& trust_store() { return trust_store_; }
  LogPacer& log_pacer() { return log_pacer_; }
  void MarkDirty(Transfer* transfer);
  // Publishes every dirty transfer and wakes the main thread once. Called at
  // the end of every worker-loop callback.
  void FlushDirty();
  // Takes over the easy handle of a stream that completed at the provider's
  // end marker while its body is still open: curl may read (and discard)
  // the rest for a moment so the connection returns to the pool; after
  // kLingerMs the handle is removed, which closes an HTTP/1.1 connection.
  // `headers` and a copy of `body` stay alive with it (curl points at them).
  void Linger(CURL* easy, std::unique_ptr<HeaderList> headers, const std::string& body);

 private:
  bool StartWorker();
  void Run();
  void ProcessCommands();
  void SocketAction(curl_socket_t fd, int events);
  void CheckMultiInfo();
  void Finished(Transfer* transfer);  // the transfer delivered its end
  void UpdateConnectionLimit();
  void CloseAll();
  void ReleaseLingering(CURL* easy);
  void ReleaseExpiredLingering();

  static void OnCommandAsync(uv_async_t* handle);
  static int OnCurlSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* userp);
  static void OnUvPoll(uv_poll_t* handle, int status, int events);
  static void OnUvTimer(uv_timer_t* handle);
  static void OnLingerTimer(uv_timer_t* handle);

  EngineHost* host_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;

  std::mutex commands_mutex_;
  std::vector<Command> commands_;  // guarded by commands_mutex_
  bool unsent_ = false;            // guarded by commands_mutex_: queued, no wakeup sent

  // Worker-thread state.
  uv_loop_t loop_{};
  uv_async_t command_async_{};
  uv_timer_t curl_timer_{};
  uv_timer_t linger_timer_{};
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  bool shutting_down_ = false;
  std::unordered_map<uint32_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> dirty_;
  std::vector<Command> running_commands_;
  struct Lingering {
    CURL* easy = nullptr;
    std::unique_ptr<HeaderList> headers;
    std::unique_ptr<std::string> body;
    uint64_t until_us = 0;
  };
  std::vector<Lingering> lingering_;
  TrustStore trust_store_;
  LogPacer log_pacer_;  // the resumable relays' log batching (worker thread)
};

// Microseconds on the monotonic clock.
uint64_t NowUs();

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_ENGINE_H_

// The engine: one worker thread per Node environment, running its own
// uv_loop_t that drives a libcurl multi handle through the socket API
// (CURLMOPT_SOCKETFUNCTION → uv_poll_t, CURLMOPT_TIMERFUNCTION → uv_timer_t).
//
// Every curl handle belongs to the worker thread. The main thread only queues
// commands (start, mode, pause, resume, abort, shutdown) and wakes the worker
// with uv_async_send; results come back through the Handoff.
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

#include "encoders/encoder.h"
#include "handoff/handoff.h"
#include "transport/trust_store.h"

namespace llmrelay {

// Everything the worker needs to run one stream, built on the main thread.
struct StreamConfig {
  uint32_t id = 0;
  std::string provider;
  std::string url;
  std::string method = "POST";
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::string mode;                  // "" = decided later by a kMode command
  int64_t connect_ms = 10000;
  int64_t first_byte_ms = 60000;     // until the first content delta
  int64_t idle_ms = 30000;           // between content deltas
  int64_t total_ms = 600000;
  uint32_t retry_attempts = 2;       // retries after the first try
  int64_t retry_base_ms = 500;
  int64_t retry_max_ms = 8000;
  std::string ca_file;               // PEM file with the CAs to trust ("" = system)
  bool verify_tls = true;
  bool http2_prior_knowledge = false;  // h2c without upgrade (plain-text HTTP/2)
  size_t max_event_bytes = size_t{8} << 20;
  EncoderOptions encoder;
};

enum class CommandType : uint8_t {
  kStart,
  kMode,
  kPause,
  kResume,
  kResumeBacklog,
  kAbort,
  kShutdown,
  kDirect,  // mode + write the downstream bytes to Node's socket `fd` ourselves
  kDetach,  // the client is gone: stop writing to the socket at once
  kTrustStore,  // the certificates the bundled libcurl trusts (trust_store.h)
};

struct Command {
  CommandType type;
  uint32_t id = 0;
  std::unique_ptr<StreamConfig> config;  // kStart
  std::string mode;                      // kMode, kDirect
  int fd = -1;                           // kDirect: Node's socket fd (dup()ed, never used itself)
  std::string heartbeat;                 // kDirect: heartbeat bytes ("" = none)
  std::string preamble;                  // kDirect: the response head, written before the body
  int64_t heartbeat_ms = 0;              // kDirect
  std::string pem;                       // kTrustStore
};

class Transfer;

class Engine {
 public:
  explicit Engine(Handoff* handoff);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Main thread. Starts the worker on first use; false if it cannot start.
  bool Post(Command command);
  // Main thread. Stops the worker, frees every curl handle, joins.
  void Shutdown();

  // Worker-thread internals used by Transfer (see engine.cc).
  CURLM* multi() const { return multi_; }
  CURLSH* share() const { return share_; }
  uv_loop_t* loop() { return &loop_; }
  Handoff* handoff() const { return handoff_; }
  TrustStore& trust_store() { return trust_store_; }
  void MarkDirty(Transfer* transfer);
  void Finished(Transfer* transfer);  // the transfer ended and published its end
  // Publishes every dirty transfer and wakes the main thread once. Called at
  // the end of every worker-loop callback.
  void FlushDirty();

 private:
  bool StartWorker();
  void Run();
  void ProcessCommands();
  void SocketAction(curl_socket_t fd, int events);
  void CheckMultiInfo();
  void CloseAll();

  static void OnCommandAsync(uv_async_t* handle);
  static int OnCurlSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* userp);
  static void OnUvPoll(uv_poll_t* handle, int status, int events);
  static void OnUvTimer(uv_timer_t* handle);

  Handoff* handoff_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;

  std::mutex commands_mutex_;
  std::vector<Command> commands_;  // guarded by commands_mutex_

  // Worker-thread state.
  uv_loop_t loop_{};
  uv_async_t command_async_{};
  uv_timer_t curl_timer_{};
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  bool shutting_down_ = false;
  std::unordered_map<uint32_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> dirty_;
  std::vector<Command> running_commands_;
  TrustStore trust_store_;
};

// Microseconds on the monotonic clock.
uint64_t NowUs();

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_ENGINE_H_

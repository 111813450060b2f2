// One stream on the worker thread: it runs the attempts at the provider
// (upstream/), feeds the body to the pipeline (pipeline/), keeps the
// deadlines and retries (upstream/ policies), pauses for slow readers, and
// hands its output to a chain of sinks (output/sink.h).
#ifndef LLMRELAY_TRANSPORT_TRANSFER_H_
#define LLMRELAY_TRANSPORT_TRANSFER_H_

#include <curl/curl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "output/sink.h"
#include "pipeline/pipeline.h"
#include "transport/engine.h"
#include "upstream/answer.h"
#include "upstream/http_attempt.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class Transfer final : public HttpAttempt::Listener {
 public:
  Transfer(Engine* engine, std::unique_ptr<StreamConfig> config);
  ~Transfer() override;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  uint32_t id() const { return config_->id; }
  bool ended() const { return ended_; }

  void Begin();
  // JavaScript chose how to consume the stream: object mode, discard, or a
  // relay format, and for a relay the sinks (a client socket to write to,
  // heartbeats). Bytes held until now go out through them.
  void Consume(ConsumeSpec spec);
  // The relayed client is gone: never touch its socket again.
  void Detach();
  void SetReaderPaused(bool paused);
  // A full downstream took what it had (the main thread drained a backlog,
  // or the client's socket drained).
  void OnDownstreamDrained();
  void Abort();
  // curl finished the attempt (from CURLMSG_DONE).
  void OnCurlDone(CURLcode result);
  // Moves what is ready into the sinks. True once the end is delivered: the
  // transfer is over.
  bool Publish();
  // Ends the transfer on shutdown without publishing anything more.
  void Cancel();
  // Closes the uv handles and the sinks; the transfer is freed when libuv
  // is done with them.
  static void Dispose(std::unique_ptr<Transfer> transfer);

  bool dirty = false;  // queued in Engine::dirty_

 private:
  // kAwaitConsumer: curl is done but nobody chose how to consume the stream
  // yet; the body is held raw and the end waits for the choice.
  enum class Phase : uint8_t { kIdle, kRunning, kRetryWait, kAwaitConsumer, kEnded };

  // HttpAttempt::Listener (inside curl callbacks: never call back into curl)
  void OnHeaderLine(std::string_view line) override;
  size_t OnBody(const char* data, size_t len) override;

  static void OnUvDeadline(uv_timer_t* handle);
  static void OnSinkEvent(void* owner, Sink::Event event);

  void StartAttempt();
  void FailFromPipeline();
  void CompleteAtEndMarker();
  DeadlineState Deadlines() const;
  void ArmDeadline();
  void CheckDeadline();
  void ApplyPause();
  // Ends the stream with `failure`, or starts another attempt when the
  // retry policy says so.
  void Fail(Failure failure);
  void Fail(ErrorCode code, std::string message) {
    Failure failure;
    failure.code = code;
    failure.message = std::move(message);
    Fail(std::move(failure));
  }
  void Succeed();
  void End(bool ok, Failure failure);
  void MarkDirty();
  // Moves what `encode` appends to the pipeline output into tail_.
  template <typename Fn>
  void SplitTail(Fn encode) {
    std::string& out = pipeline_.output();
    const size_t before = out.size();
    encode();
    tail_.append(out, before, std::string::npos);
    out.resize(before);
  }

  Engine* engine_;
  std::unique_ptr<StreamConfig> config_;
  std::unique_ptr<HeaderList> headers_;
  StreamPipeline pipeline_;
  std::unique_ptr<HttpAttempt> attempt_;
  Answer answer_;
  SinkPtr sink_;
  uv_timer_t deadline_{};

  Phase phase_ = Phase::kIdle;
  bool ended_ = false;
  CURLcode pending_result_ = CURLE_OK;  // kAwaitConsumer: curl's result, replayed on Consume
  uint32_t retries_ = 0;
  bool at_end_marker_ = false;    // the answer is whole: the rest of the body is not read
  bool outlives_client_ = false;  // a resumable relay: a downstream that closes does not end it

  // Deadline reference times (microseconds, monotonic).
  uint64_t start_us_ = 0;
  uint64_t attempt_start_us_ = 0;
  uint64_t content_ref_us_ = 0;  // last content delta or resume
  uint64_t retry_at_us_ = 0;

  // Why the transfer is paused; curl is paused while any holds.
  bool paused_reader_ = false;      // the JavaScript reader asked (kPause)
  bool paused_downstream_ = false;  // a sink is full (backlog for the main thread, the client's socket)
  bool paused_hold_ = false;        // raw bytes held for a consumer not chosen yet
  bool curl_paused_ = false;

  // Waiting for the sinks.
  std::string head_out_;
  std::string tail_;
  EndRecord end_;
  bool end_ready_ = false;
};

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_TRANSFER_H_

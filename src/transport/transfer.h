// One stream's HTTP exchange with the provider, on the worker thread: the
// curl easy handle, the byte pipeline, the deadlines, retries and pausing.
#ifndef LLMRELAY_TRANSPORT_TRANSFER_H_
#define LLMRELAY_TRANSPORT_TRANSFER_H_

#include <curl/curl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/pipeline.h"
#include "transport/socket_sink.h"
#include "transport/engine.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class Transfer {
 public:
  Transfer(Engine* engine, std::unique_ptr<StreamConfig> config);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  uint32_t id() const { return config_->id; }
  bool ended() const { return ended_; }

  void Begin();
  void SetMode(std::string_view mode);
  // SetMode(mode), then write the response to the client's HTTP/1.1 socket
  // (Node's `fd`): `preamble` (the head Node built but did not send), then
  // the body as chunks, instead of handing the bytes to JavaScript. If that
  // cannot start (the transfer already ended, the fd is unusable), nothing is
  // written and the bytes go to JavaScript as usual: the end record has no
  // "direct" field then, and JS sends the head itself.
  void SetModeDirect(std::string_view mode, int fd, std::string_view preamble, std::string heartbeat,
                     uint64_t heartbeat_ms);
  // The client is gone (its response closed): never touch its socket again.
  void DetachSocket();
  void SetReaderPaused(bool paused);
  void ResumeBacklog();
  void Abort();
  // curl finished the transfer (from CURLMSG_DONE).
  void OnCurlDone(CURLcode result);
  // Moves what is ready into the handoff (or onto the client's socket).
  // True once the end record is published: the transfer is over.
  bool Publish();
  // Ends the transfer on shutdown without publishing anything more.
  void Cancel();
  // Closes the uv handles; `delete_after` owns this object and frees it when
  // libuv is done with the handles.
  static void Dispose(std::unique_ptr<Transfer> transfer);

  bool dirty = false;  // queued in Engine::dirty_

 private:
  // kAwaitMode: curl is done but nobody chose how to consume the stream yet;
  // the body is held raw and the end waits for the mode.
  enum class Phase : uint8_t { kIdle, kRunning, kRetryWait, kAwaitMode, kEnded };

  static size_t OnCurlWrite(char* data, size_t size, size_t nmemb, void* userp);
  static size_t OnCurlHeader(char* data, size_t size, size_t nmemb, void* userp);
  static void OnUvDeadline(uv_timer_t* handle);

  void StartAttempt();
  void DetachEasy();
  void HandleHeaderLine(std::string_view line);
  void HeadersComplete();
  size_t HandleBody(const char* data, size_t len);
  void ArmDeadline();
  void CheckDeadline();
  void ApplyPause();
  bool ShouldRetry(std::string_view code, long status, int curl_code, int64_t* delay_ms) const;
  void Fail(std::string_view code, std::string message, long status = 0,
            std::string_view type = {}, int curl_code = 0);
  void Succeed();
  void EndRecord(bool ok, std::string_view outcome);
  void MarkDirty();
  bool PublishDirect();
  static void OnSinkEvent(void* context);
  // Moves what `encode` appends to the pipeline output into tail_out_.
  template <typename Fn>
  void SplitTail(Fn encode) {
    std::string& out = pipeline_.output();
    const size_t before = out.size();
    encode();
    tail_out_.append(out, before, std::string::npos);
    out.resize(before);
  }

  Engine* engine_;
  std::unique_ptr<StreamConfig> config_;
  StreamPipeline pipeline_;
  CURL* easy_ = nullptr;
  curl_slist* header_list_ = nullptr;
  uv_timer_t deadline_{};
  char curl_error_[CURL_ERROR_SIZE] = {0};

  Phase phase_ = Phase::kIdle;
  bool ended_ = false;
  CURLcode pending_result_ = CURLE_OK;  // kAwaitMode: curl's result, replayed on SetMode
  bool json_mode_ = false;  // output is Delta JSON for JS, not downstream bytes
  uint32_t attempt_ = 0;

  // Response state of the current attempt.
  long status_ = 0;
  bool headers_done_ = false;
  bool is_event_stream_ = false;
  bool content_type_ok_ = true;
  int http_version_ = 0;  // 1 or 2
  std::string headers_json_;   // {"name":"value",...} of the final response
  std::string content_type_;
  std::string retry_after_;
  std::string retry_after_ms_;
  std::string error_body_;     // body of a non-2xx (or non-stream) answer, capped

  // Deadlines (microseconds, monotonic).
  uint64_t start_us_ = 0;
  uint64_t attempt_start_us_ = 0;
  uint64_t content_ref_us_ = 0;   // last content delta or resume
  uint64_t retry_at_us_ = 0;
  bool paused_reader_ = false;
  bool paused_backlog_ = false;
  bool paused_hold_ = false;
  bool pause_wanted_ = false;  // any of the four above: deadlines stop, curl pauses at its next write
  bool curl_paused_ = false;   // OnCurlWrite returned CURL_WRITEFUNC_PAUSE: CURLPAUSE_CONT resumes

  // Error of the attempt (set before curl reports done, when we caused it).
  std::string fail_code_;

  // Direct socket writes (SetModeDirect). The end record tells JavaScript
  // what became of the socket: "finished" (the worker wrote the body's end;
  // Node must end the response without writing), "open" (nothing more was
  // written: JS ends it, e.g. cuts a text body short) or "gone" (a write
  // failed or the client left).
  enum class Direct : uint8_t { kNone, kAttached, kFinished, kOpen, kGone };
  Direct direct_ = Direct::kNone;
  std::unique_ptr<SocketSink> sink_;
  bool direct_text_ = false;    // text format: an error cuts the body short
  bool paused_socket_ = false;  // the client's socket is full
  bool tail_written_ = false;
  bool ok_end_ = false;

  // Pending handoff strings.
  std::string head_out_;
  std::string end_out_;
  std::string tail_out_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_TRANSFER_H_

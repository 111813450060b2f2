// Keeps an idle relay alive: after `interval_ms` without a write, the
// format's heartbeat (": ping\n\n" for SSE-based formats, a blank line for
// ndjson) goes out through the rest of the chain, so proxies and load
// balancers with idle timeouts (nginx 60 s, AWS ALB 60 s) keep the
// connection. The one heartbeat of the package: it serves the worker's own
// socket writes and the relays whose bytes Node writes alike.
#ifndef LLMRELAY_OUTPUT_HEARTBEAT_SINK_H_
#define LLMRELAY_OUTPUT_HEARTBEAT_SINK_H_

#include <uv.h>

#include <cstdint>
#include <string>

#include "output/sink.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class HeartbeatSink final : public ForwardingSink {
 public:
  // `after_head`: no heartbeat before the provider's head went through (a
  // relay that holds its HTTP status until the provider answered must not
  // start the body before it).
  static SinkPtr Create(uv_loop_t* loop, std::string heartbeat, uint64_t interval_ms, bool after_head, Notify notify,
                        void* owner, SinkPtr next);

  void Head(std::string& record_json) override;
  Flow Write(std::string& bytes) override;
  bool End(std::string& tail, EndRecord& end) override;
  void SetBlocked(bool blocked) override;
  void Detach() override;
  void Stop() override;
  void Dispose() override;

 private:
  HeartbeatSink(uv_loop_t* loop, std::string heartbeat, uint64_t interval_ms, Notify notify, void* owner, SinkPtr next);
  static void OnUvTimer(uv_timer_t* handle);
  void Arm();
  void Quit();

  uv_timer_t timer_{};
  std::string heartbeat_;
  std::string scratch_;
  uint64_t interval_ms_;
  uint64_t last_write_ms_ = 0;  // loop time of the last write (or of arming)
  Notify notify_;
  void* owner_;
  bool running_ = false;  // the timer may fire
  bool blocked_ = false;
  bool over_ = false;  // ended, detached or stopped: never again
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_HEARTBEAT_SINK_H_

#include "output/heartbeat_sink.h"

#include <utility>

namespace llmrelay {

SinkPtr HeartbeatSink::Create(uv_loop_t* loop, std::string heartbeat, uint64_t interval_ms, bool after_head,
                              Notify notify, void* owner, SinkPtr next) {
  SinkPtr sink(new HeartbeatSink(loop, std::move(heartbeat), interval_ms, notify, owner, std::move(next)));
  if (!after_head) static_cast<HeartbeatSink*>(sink.get())->Arm();
  return sink;
}

HeartbeatSink::HeartbeatSink(uv_loop_t* loop, std::string heartbeat, uint64_t interval_ms, Notify notify, void* owner,
                             SinkPtr next)
    : ForwardingSink(std::move(next)),
      heartbeat_(std::move(heartbeat)),
      interval_ms_(interval_ms),
      notify_(notify),
      owner_(owner) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

void HeartbeatSink::Arm() {
  if (over_ || interval_ms_ == 0 || heartbeat_.empty()) return;
  running_ = true;
  last_write_ms_ = uv_now(timer_.loop);
  uv_timer_start(&timer_, &HeartbeatSink::OnUvTimer, interval_ms_, 0);
}

void HeartbeatSink::Quit() {
  over_ = true;
  running_ = false;
  uv_timer_stop(&timer_);
}

void HeartbeatSink::Head(std::string& record_json) {
  ForwardingSink::Head(record_json);
  if (!running_) Arm();
}

Sink::Flow HeartbeatSink::Write(std::string& bytes) {
  const Flow flow = ForwardingSink::Write(bytes);
  // Any write proves the connection alive: the idle clock restarts. The
  // timer is not moved here (a heap update per token, with a timer per
  // stream in the heap): it re-arms itself from this time when it fires.
  if (running_) last_write_ms_ = uv_now(timer_.loop);
  if (flow == Flow::kFull) blocked_ = true;
  return flow;
}

bool HeartbeatSink::End(std::string& tail, EndRecord& end) {
  Quit();
  return ForwardingSink::End(tail, end);
}

void HeartbeatSink::SetBlocked(bool blocked) {
  blocked_ = blocked;
  ForwardingSink::SetBlocked(blocked);
}

void HeartbeatSink::Detach() {
  Quit();
  ForwardingSink::Detach();
}

void HeartbeatSink::Stop() {
  Quit();
  ForwardingSink::Stop();
}

// Runs on the worker thread.
void HeartbeatSink::OnUvTimer(uv_timer_t* handle) {
  auto* self = static_cast<HeartbeatSink*>(handle->data);
  if (!self->running_) return;
  const uint64_t due = self->last_write_ms_ + self->interval_ms_;
  const uint64_t now = uv_now(handle->loop);
  if (due > now) {  // written to since the timer was set: not idle yet
    uv_timer_start(&self->timer_, &HeartbeatSink::OnUvTimer, due - now, 0);
    return;
  }
  self->last_write_ms_ = now;
  uv_timer_start(&self->timer_, &HeartbeatSink::OnUvTimer, self->interval_ms_, 0);
  // A client that does not read gains nothing from more bytes.
  if (self->blocked_) return;
  self->scratch_.assign(self->heartbeat_);
  const Flow flow = self->ForwardingSink::Write(self->scratch_);
  if (flow == Flow::kFull) self->blocked_ = true;
  self->notify_(self->owner_, flow == Flow::kClosed ? Event::kClosed : Event::kWrote);
}

void HeartbeatSink::Dispose() {
  Quit();
  ReleaseNext();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* handle) {
    std::unique_ptr<HeartbeatSink> owned(static_cast<HeartbeatSink*>(handle->data));
  });
}

}  // namespace llmrelay

#include "output/log_batch_sink.h"

#include <memory>
#include <utility>

namespace llmrelay {

SinkPtr LogBatchSink::Create(uv_loop_t* loop, uint64_t interval_ms, Notify notify, void* owner, SinkPtr next) {
  return SinkPtr(new LogBatchSink(loop, interval_ms, notify, owner, std::move(next)));
}

LogBatchSink::LogBatchSink(uv_loop_t* loop, uint64_t interval_ms, Notify notify, void* owner, SinkPtr next)
    : ForwardingSink(std::move(next)), interval_ms_(interval_ms), notify_(notify), owner_(owner) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

void LogBatchSink::Log(std::string& entries, uint64_t first_seq, uint32_t count) {
  if (count == 0) return;
  if (held_count_ == 0) {
    held_first_ = first_seq;
    held_.swap(entries);  // the caller gets the (empty) held buffer back: no copy
  } else {
    held_.append(entries);
  }
  entries.clear();
  held_count_ += count;
  if (held_.size() >= kMaxHeldBytes) {
    PassOn();
    return;
  }
  if (!armed_) {
    armed_ = true;
    uv_timer_start(&timer_, &LogBatchSink::OnUvTimer, interval_ms_, 0);
  }
}

void LogBatchSink::PassOn() {
  if (armed_) {
    armed_ = false;
    uv_timer_stop(&timer_);
  }
  if (held_count_ == 0) return;
  const uint32_t count = held_count_;
  held_count_ = 0;
  ForwardingSink::Log(held_, held_first_, count);
  held_.clear();
}

bool LogBatchSink::End(std::string& tail, EndRecord& end) {
  // Every entry before the end record (a step's last sequence number, a
  // reader's last batch).
  PassOn();
  return ForwardingSink::End(tail, end);
}

void LogBatchSink::Stop() {
  PassOn();
  ForwardingSink::Stop();
}

// Runs on the worker thread.
void LogBatchSink::OnUvTimer(uv_timer_t* handle) {
  auto* self = static_cast<LogBatchSink*>(handle->data);
  self->armed_ = false;
  if (self->held_count_ == 0) return;
  const uint32_t count = self->held_count_;
  self->held_count_ = 0;
  self->ForwardingSink::Log(self->held_, self->held_first_, count);
  self->held_.clear();
  // Published outside any transfer callback: the owner wakes JavaScript.
  self->notify_(self->owner_, Event::kWrote);
}

void LogBatchSink::Dispose() {
  if (armed_) {
    armed_ = false;
    uv_timer_stop(&timer_);
  }
  ReleaseNext();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
           [](uv_handle_t* handle) { std::unique_ptr<LogBatchSink> owned(static_cast<LogBatchSink*>(handle->data)); });
}

}  // namespace llmrelay

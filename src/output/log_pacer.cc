#include "output/log_pacer.h"

#include <algorithm>

namespace llmrelay {

void LogPacer::Init(uv_loop_t* loop, Flush flush, void* ctx) {
  flush_ = flush;
  ctx_ = ctx;
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  initialized_ = true;
}

void LogPacer::Close() {
  if (!initialized_) return;
  initialized_ = false;
  armed_ = false;
  queued_.clear();
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void LogPacer::Enqueue(Client* client) {
  queued_.push_back(client);
  if (!armed_ && initialized_) {
    armed_ = true;
    uv_timer_start(&timer_, &LogPacer::OnUvTimer, IntervalMs(), 0);
  }
}

void LogPacer::Dequeue(Client* client) {
  auto it = std::find(queued_.begin(), queued_.end(), client);
  if (it == queued_.end()) return;
  *it = queued_.back();  // order does not matter: every client ticks
  queued_.pop_back();
}

// Runs on the worker thread.
void LogPacer::OnUvTimer(uv_timer_t* handle) { static_cast<LogPacer*>(handle->data)->Tick(); }

void LogPacer::Tick() {
  armed_ = false;
  ticking_.swap(queued_);
  // OnTick only hands entries on and marks its owner: no client goes away
  // (or enqueues) before the flush below.
  for (Client* client : ticking_) client->OnTick();
  ticking_.clear();
  flush_(ctx_);
  if (!queued_.empty() && initialized_ && !armed_) {
    armed_ = true;
    uv_timer_start(&timer_, &LogPacer::OnUvTimer, IntervalMs(), 0);
  }
}

}  // namespace llmrelay

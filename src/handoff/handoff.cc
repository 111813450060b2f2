#include "handoff/handoff.h"

#include <utility>

namespace llmrelay {

namespace {

void MoveInto(std::string& dst, std::string& src) {
  if (src.empty()) return;
  if (dst.empty()) {
    dst.swap(src);  // the worker gets the (empty) old buffer back: no copy
  } else {
    dst.append(src);
  }
  src.clear();
}

}  // namespace

bool Handoff::Publish(uint32_t id, std::string& head, std::string& data, std::string& end, std::string& tail, bool json,
                      size_t backlog_limit) {
  if (head.empty() && data.empty() && end.empty() && tail.empty()) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  Outbox& box = boxes_[id];
  MoveInto(box.head, head);
  MoveInto(box.data, data);
  MoveInto(box.end, end);
  MoveInto(box.tail, tail);
  box.json = json;
  if (!box.queued) {
    box.queued = true;
    ready_.push_back(id);
    published_ = true;
  }
  if (backlog_limit != 0 && box.data.size() > backlog_limit && !box.backlog_paused) {
    box.backlog_paused = true;
    return true;
  }
  return false;
}

void Handoff::PublishLog(uint32_t id, std::string& entries, uint64_t first_seq, uint32_t count) {
  if (count == 0 || entries.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Outbox& box = boxes_[id];
  if (box.log_count == 0) box.log_first_seq = first_seq;
  box.log_count += count;
  MoveInto(box.log, entries);
  if (!box.queued) {
    box.queued = true;
    ready_.push_back(id);
    published_ = true;
  }
}

void Handoff::MarkParked(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Outbox& box = boxes_[id];
  box.parked = true;
  if (!box.queued) {
    box.queued = true;
    ready_.push_back(id);
    published_ = true;
  }
}

void Handoff::WakeIfNeeded() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!published_) return;
    published_ = false;
  }
  // One wakeup in flight at a time; the main thread clears the flag before
  // it drains, so anything published after that gets a wakeup of its own.
  if (!wake_pending_.exchange(true)) wake_();
}

void Handoff::Drain(std::vector<Ready>& out) {
  wake_pending_.store(false);
  std::lock_guard<std::mutex> lock(mutex_);
  out.reserve(out.size() + ready_.size());
  for (uint32_t id : ready_) {
    auto it = boxes_.find(id);
    if (it == boxes_.end()) continue;
    Ready ready{id, std::move(it->second)};
    if (ready.box.end.empty()) {
      it->second = Outbox{};
    } else {
      boxes_.erase(it);  // the stream is over: nothing more will come
    }
    out.push_back(std::move(ready));
  }
  ready_.clear();
}

}  // namespace llmrelay

#include "output/log_batch_sink.h"

#include <memory>
#include <utility>

namespace llmrelay {

SinkPtr LogBatchSink::Create(LogPacer* pacer, Notify notify, void* owner, SinkPtr next) {
  return SinkPtr(new LogBatchSink(pacer, notify, owner, std::move(next)));
}

LogBatchSink::LogBatchSink(LogPacer* pacer, Notify notify, void* owner, SinkPtr next)
    : ForwardingSink(std::move(next)), pacer_(pacer), notify_(notify), owner_(owner) {
  pacer_->AddRelay();
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
    PassOn();  // inside the transfer's own callback: it publishes afterwards
    return;
  }
  if (!queued_) {
    queued_ = true;
    pacer_->Enqueue(this);
  }
}

void LogBatchSink::PassOn() {
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

void LogBatchSink::OnTick() {
  queued_ = false;
  if (held_count_ == 0) return;  // passed on meanwhile (End, a burst)
  PassOn();
  // Marks the transfer for publishing; the pacer publishes once for all.
  notify_(owner_, Event::kLogged);
}

void LogBatchSink::Dispose() {
  if (queued_) pacer_->Dequeue(this);
  pacer_->RemoveRelay();
  std::unique_ptr<LogBatchSink> self(this);
}

}  // namespace llmrelay

// Gathers a resumable relay's log entries (Sink::Log) and passes them on at
// most every `interval_ms`, instead of with every batch of output.
//
// Why: at 50 tokens/s a stream's deltas are 20 ms apart and reach the worker
// one per read, so each would otherwise make its own record for JavaScript
// and its own store.append() there: on direct socket writes, the log is the
// only per-token work left on the main thread (bench row
// llm-relay-resume-redis). Holding entries for `interval_ms` hands them over
// a few at a time. The end record always comes after every entry: End()
// passes what is held on first. A resumed reader that follows the stream
// live sees its deltas up to `interval_ms` later than the live client.
#ifndef LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_
#define LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_

#include <uv.h>

#include <cstdint>
#include <string>

#include "output/sink.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class LogBatchSink final : public ForwardingSink {
 public:
  static SinkPtr Create(uv_loop_t* loop, uint64_t interval_ms, Notify notify, void* owner, SinkPtr next);

  void Log(std::string& entries, uint64_t first_seq, uint32_t count) override;
  bool End(std::string& tail, EndRecord& end) override;
  void Stop() override;
  void Dispose() override;

 private:
  LogBatchSink(uv_loop_t* loop, uint64_t interval_ms, Notify notify, void* owner, SinkPtr next);
  static void OnUvTimer(uv_timer_t* handle);
  void PassOn();

  // Held entries past this size go on at once: a burst must not pile up.
  static constexpr size_t kMaxHeldBytes = size_t{64} * 1024;

  uv_timer_t timer_{};
  std::string held_;
  uint64_t held_first_ = 0;
  uint32_t held_count_ = 0;
  uint64_t interval_ms_;
  Notify notify_;
  void* owner_;
  bool armed_ = false;
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_

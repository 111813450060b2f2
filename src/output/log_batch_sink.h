// Gathers a resumable relay's log entries (Sink::Log) and passes them on at
// the engine's next log tick (log_pacer.h: every 20 to 200 ms, longer with
// more resumable relays), instead of with every batch of output.
//
// Why: at 50 tokens/s a stream's deltas are 20 ms apart and reach the worker
// one per read, so each would otherwise make its own record for JavaScript
// and its own store.append() there: on direct socket writes, the log is the
// only per-token work left on the main thread (bench row
// llm-relay-resume-redis). Holding entries until the tick hands them over a
// few at a time, every relay's in one wakeup. The end record always comes
// after every entry: End() passes what is held on first. A resumed reader
// that follows the stream live sees its deltas up to one interval later than
// the live client.
#ifndef LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_
#define LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_

#include <cstdint>
#include <string>

#include "output/log_pacer.h"
#include "output/sink.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class LogBatchSink final : public ForwardingSink, public LogPacer::Client {
 public:
  // `pacer` (the engine's) outlives the sink, which counts itself in it until Dispose().
  static SinkPtr Create(LogPacer* pacer, Notify notify, void* owner, SinkPtr next);

  void Log(std::string& entries, uint64_t first_seq, uint32_t count) override;
  bool End(std::string& tail, EndRecord& end) override;
  void Stop() override;
  void Dispose() override;
  void OnTick() override;

 private:
  LogBatchSink(LogPacer* pacer, Notify notify, void* owner, SinkPtr next);
  void PassOn();

  // Held entries past this size go on at once: a burst must not pile up.
  static constexpr size_t kMaxHeldBytes = size_t{64} * 1024;

  std::string held_;
  uint64_t held_first_ = 0;
  uint32_t held_count_ = 0;
  LogPacer* pacer_;
  Notify notify_;
  void* owner_;
  bool queued_ = false;  // in the pacer's queue for the next tick
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_LOG_BATCH_SINK_H_

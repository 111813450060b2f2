// The handoff between the worker thread and the main thread.
//
// The worker publishes each stream's ready bytes into that stream's outbox and
// wakes the main thread only when the ready list goes from empty to non-empty,
// so one main-loop wakeup drains every ready stream's batch, however many
// tokens arrived meanwhile.
#ifndef LLMRELAY_HANDOFF_HANDOFF_H_
#define LLMRELAY_HANDOFF_HANDOFF_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmrelay {

// What one stream has ready for JavaScript. Empty strings mean "nothing".
struct Outbox {
  std::string head;            // JSON: response status and headers (once, on a 2xx)
  std::string data;            // encoded deltas ("json" mode) or downstream bytes
  std::string end;             // JSON: the end record (summary, error); last
  std::string tail;            // downstream bytes of the end ([DONE] / error event)
  std::string log;             // resume log entries: Delta JSON, one object per delta
  uint64_t log_first_seq = 0;  // the sequence number of the first entry in `log`
  uint32_t log_count = 0;
  bool json = true;  // `data` is Delta JSON for JS, not downstream bytes
  bool queued = false;
  bool backlog_paused = false;  // the worker paused the transfer: data is piling up
  bool parked = false;          // the answer is complete and waits for a consumer: nothing in flight
};

class Handoff {
 public:
  // `wake` is called from the worker thread, at most once per drain.
  explicit Handoff(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Runs on the worker thread. Moves the non-empty strings in, leaving them
  // empty (buffers are swapped, not copied, when the outbox is empty).
  // Returns true when the outbox's data grew past `backlog_limit` (0: no
  // limit); the outbox is then marked backlog_paused in the same critical
  // section, so the drain that takes it always sees the mark.
  bool Publish(uint32_t id, std::string& head, std::string& data, std::string& end, std::string& tail, bool json,
               size_t backlog_limit);
  // Runs on the worker thread: resume log entries (see Outbox::log), after
  // what was published before them.
  void PublishLog(uint32_t id, std::string& entries, uint64_t first_seq, uint32_t count);
  // Runs on the worker thread: tells the main thread the stream is parked
  // (its answer is complete and held until JavaScript picks a consumer), so
  // it no longer needs to keep the event loop alive.
  void MarkParked(uint32_t id);
  // Runs on the worker thread once per loop turn: wakes the main thread if
  // anything was published since the last drain.
  void WakeIfNeeded();

  // Runs on the main thread: takes every ready outbox.
  struct Ready {
    uint32_t id;
    Outbox box;
  };
  void Drain(std::vector<Ready>& out);

 private:
  std::function<void()> wake_;
  std::mutex mutex_;
  std::unordered_map<uint32_t, Outbox> boxes_;
  std::vector<uint32_t> ready_;
  bool published_ = false;  // guarded by mutex_
  std::atomic<bool> wake_pending_{false};
};

}  // namespace llmrelay

#endif  // LLMRELAY_HANDOFF_HANDOFF_H_

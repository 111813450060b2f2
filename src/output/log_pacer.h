// When a resumable relay's log entries go from the worker to JavaScript
// (LogBatchSink), for every resumable relay of an engine at once.
//
// Every handoff costs the main thread a record and a store.append(). Handing
// over each relay's entries on a timer of its own makes that cost grow with
// the streams (at 50 tokens/s, 1,000 relays held for 50 ms each make 20,000
// handoffs and up to as many wakeups a second) and costs the worker a timer
// start and stop per relay per interval. The pacer runs one timer per engine
// instead: each tick hands over every relay's held entries, and the main
// thread wakes once for all of them. The interval grows with the resumable
// relays (log_interval.h).
#ifndef LLMRELAY_OUTPUT_LOG_PACER_H_
#define LLMRELAY_OUTPUT_LOG_PACER_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "output/log_interval.h"

namespace llmrelay {

// Worker thread only (no locking).
class LogPacer {
 public:
  // What waits for a tick: a relay's log batcher holding entries.
  class Client {
   public:
    // Hand the held entries on (and mark the owner for publishing; the
    // pacer's flush publishes for all clients at once).
    virtual void OnTick() = 0;

   protected:
    ~Client() = default;
  };
  // Publishes what the ticked clients marked (Engine::FlushDirty).
  using Flush = void (*)(void* ctx);

  LogPacer() = default;
  LogPacer(const LogPacer&) = delete;
  LogPacer& operator=(const LogPacer&) = delete;

  void Init(uv_loop_t* loop, Flush flush, void* ctx);
  // Before the loop closes: stops and closes the timer (nothing may be queued).
  void Close();

  void AddRelay() { ++relays_; }
  void RemoveRelay() {
    if (relays_ > 0) --relays_;
  }
  size_t relays() const { return relays_; }

  // `client` holds entries: it gets OnTick() at the next tick, once.
  void Enqueue(Client* client);
  // `client` goes away before its tick.
  void Dequeue(Client* client);

  uint64_t IntervalMs() const { return LogIntervalMs(relays_); }

 private:
  static void OnUvTimer(uv_timer_t* handle);
  void Tick();

  uv_timer_t timer_{};
  bool initialized_ = false;
  bool armed_ = false;
  size_t relays_ = 0;
  std::vector<Client*> queued_;
  std::vector<Client*> ticking_;  // kept for its capacity
  Flush flush_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_LOG_PACER_H_

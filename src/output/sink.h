// Where one stream's output goes. The transfer produces three things: the
// provider's response head, batches of output (a downstream format's bytes,
// or Delta JSON for object mode), and the end (the format's last bytes plus
// the end record). A chain of sinks consumes them, chosen when JavaScript
// picks the consumer (Transfer::Consume):
//
//   JsSink        (handoff/)  everything to JavaScript, one batch per stream
//                             per main-loop wakeup: object mode, discard,
//                             and relays whose bytes Node writes
//   SocketSink    (output/)   the bytes straight to the relayed client's
//                             socket ("direct" writes); the end record then
//                             goes on to the JsSink behind it
//   LogBatchSink  (output/)   a resumable relay's log entries, handed on
//                             at the engine's log tick (log_pacer.h)
//   HeartbeatSink (output/)   fills idle time with the format's heartbeat,
//                             for any relay, then passes everything on
//
// Adding an output (the resume log is the next one) is a new Sink in this
// chain, not a flag through the transport. Every method runs on the worker
// thread and must not block.
#ifndef LLMRELAY_OUTPUT_SINK_H_
#define LLMRELAY_OUTPUT_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/records.h"

namespace llmrelay {

class Sink {
 public:
  enum class Flow : uint8_t {
    kOpen,    // take more
    kFull,    // stop reading from the provider until the owner hears kDrained
    kClosed,  // the downstream is gone (the client left): end the stream
  };

  // What a sink tells its owner (the transfer) when its state changed on its
  // own, outside any call of the owner: from a libuv callback.
  enum class Event : uint8_t {
    kDrained,  // a full downstream took everything: the transfer may read again
    kClosed,   // the downstream failed: see ClosedReason()
    kWrote,    // bytes were published on a timer (a heartbeat): wake JavaScript
    kLogged,   // log entries went on at the pacer's tick: publish with the others
  };
  using Notify = void (*)(void* owner, Event event);

  Sink() = default;
  virtual ~Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // The provider's 2xx response head, {"status","httpVersion","headers"}.
  // Takes the string (leaves it empty).
  virtual void Head(std::string& record_json) = 0;
  // One batch. Takes the bytes (leaves `bytes` empty, its capacity kept).
  virtual Flow Write(std::string& bytes) = 0;
  // Entries for the resume log: `entries` holds `count` deltas as Delta
  // JSON ("{...},{...},"), the first with sequence number `first_seq`.
  // Takes the string. Only a resumable relay produces them.
  virtual void Log(std::string& entries, uint64_t first_seq, uint32_t count) = 0;
  // The end: `tail` is the format's last bytes ([DONE], the error event;
  // may be empty), `end` the end record. True once delivered; false while
  // bytes still drain to a socket: End is called again after kDrained or
  // kClosed, with the same record.
  virtual bool End(std::string& tail, EndRecord& end) = 0;
  // The transfer paused (blocked) or resumed reading for this downstream's
  // reader: no heartbeat while blocked.
  virtual void SetBlocked(bool blocked) = 0;
  // The answer is complete and waits for JavaScript to pick a consumer:
  // nothing is in flight.
  virtual void Park() = 0;
  // The relayed client is gone: never write to it again.
  virtual void Detach() = 0;
  // Stop writing at once and drop what waits (an abort after the end, the
  // engine shutting down). End still delivers the end record.
  virtual void Stop() = 0;
  // Why Write answered kClosed.
  virtual std::string_view ClosedReason() const { return "the downstream closed"; }

  // Frees the sink (and the chain behind it) once libuv is done with any
  // handle it holds. Only through SinkDeleter.
  virtual void Dispose() = 0;
};

struct SinkDeleter {
  void operator()(Sink* sink) const {
    if (sink != nullptr) sink->Dispose();
  }
};
using SinkPtr = std::unique_ptr<Sink, SinkDeleter>;

// A sink that passes everything to the next one; decorators override what
// they add.
class ForwardingSink : public Sink {
 public:
  explicit ForwardingSink(SinkPtr next) : next_(std::move(next)) {}
  void Head(std::string& record_json) override { next_->Head(record_json); }
  Flow Write(std::string& bytes) override { return next_->Write(bytes); }
  void Log(std::string& entries, uint64_t first_seq, uint32_t count) override { next_->Log(entries, first_seq, count); }
  bool End(std::string& tail, EndRecord& end) override { return next_->End(tail, end); }
  void SetBlocked(bool blocked) override { next_->SetBlocked(blocked); }
  void Park() override { next_->Park(); }
  void Detach() override { next_->Detach(); }
  void Stop() override { next_->Stop(); }
  std::string_view ClosedReason() const override { return next_->ClosedReason(); }

  void Dispose() override { std::unique_ptr<ForwardingSink> self(this); }

 protected:
  Sink& next() { return *next_; }
  // Frees the rest of the chain now (a decorator whose own handles close
  // later must not leave the sinks behind it running meanwhile).
  void ReleaseNext() { next_.reset(); }
  void AttachNext(SinkPtr next) { next_ = std::move(next); }

 private:
  SinkPtr next_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_SINK_H_

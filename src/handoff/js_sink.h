// The sink at the end of every chain: what goes to JavaScript goes through
// the handoff, one batch per stream per main-loop wakeup (output/sink.h).
#ifndef LLMRELAY_HANDOFF_JS_SINK_H_
#define LLMRELAY_HANDOFF_JS_SINK_H_

#include <cstdint>
#include <string>

#include "handoff/handoff.h"
#include "output/sink.h"
#include "transport/engine.h"

namespace llmrelay {

// Runs on the worker thread, every method.
class JsSink final : public Sink {
 public:
  JsSink(Handoff* handoff, uint32_t id, OutputKind kind)
      : handoff_(handoff), id_(id), json_(kind == OutputKind::kDeltaJson) {}

  void Head(std::string& record_json) override;
  Flow Write(std::string& bytes) override;
  void Log(std::string& entries, uint64_t first_seq, uint32_t count) override {
    handoff_->PublishLog(id_, entries, first_seq, count);
  }
  bool End(std::string& tail, EndRecord& end) override;
  void SetBlocked(bool /*blocked*/) override {}
  void Park() override { handoff_->MarkParked(id_); }
  void Detach() override {}
  void Stop() override {}
  void Dispose() override { std::unique_ptr<JsSink> self(this); }

 private:
  Handoff* handoff_;
  uint32_t id_;
  bool json_;
  std::string end_json_;
};

// What the engine needs from the binding's side: a JsSink per stream and a
// wakeup of the main thread after each worker-loop turn that published.
class HandoffHost final : public EngineHost {
 public:
  explicit HandoffHost(Handoff* handoff) : handoff_(handoff) {}
  SinkPtr MakeJsSink(uint32_t id, OutputKind kind) override { return SinkPtr(new JsSink(handoff_, id, kind)); }
  void AfterPublish() override { handoff_->WakeIfNeeded(); }

 private:
  Handoff* handoff_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_HANDOFF_JS_SINK_H_

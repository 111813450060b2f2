#include "handoff/js_sink.h"

namespace llmrelay {

namespace {

// Bytes waiting for the main thread before the transfer pauses itself: the
// main thread is not draining (busy, or a reader that never reads).
constexpr size_t kMaxBacklog = size_t{1024} * 1024;

}  // namespace

void JsSink::Head(std::string& record_json) {
  std::string none;
  handoff_->Publish(id_, record_json, none, none, none, json_, 0);
}

Sink::Flow JsSink::Write(std::string& bytes) {
  std::string none;
  // Past kMaxBacklog the handoff marks the outbox and the transfer stops
  // reading from the provider until the main thread has taken it (which
  // then sends kResumeBacklog). Marking under the publish lock matters:
  // marked later, a drain in between would miss the mark and the transfer
  // would stay paused.
  const bool over = handoff_->Publish(id_, none, bytes, none, none, json_, kMaxBacklog);
  return over ? Flow::kFull : Flow::kOpen;
}

bool JsSink::End(std::string& tail, EndRecord& end) {
  end_json_.clear();
  AppendEndRecordJson(end_json_, end);
  std::string none;
  handoff_->Publish(id_, none, none, end_json_, tail, json_, 0);
  return true;
}

}  // namespace llmrelay

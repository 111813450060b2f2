// Replays Delta JSON (the resume log's entries, as the "log" encoder wrote
// them) into an encoder, so a stored answer can be sent again in any format,
// byte for byte as the live relay encoded it, with the same event ids.
// Pure: runs on whichever thread calls it (the main thread, for readers).
#ifndef LLMRELAY_PIPELINE_DELTA_REPLAY_H_
#define LLMRELAY_PIPELINE_DELTA_REPLAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "encoders/encoder.h"

namespace llmrelay {

class DeltaReplay {
 public:
  // `ids`: append each delta's sequence number as its SSE event id (for
  // SSE-based formats; ignored by the others).
  DeltaReplay(std::unique_ptr<Encoder> encoder, bool ids) : encoder_(std::move(encoder)), ids_(ids) {}

  // The format's opening bytes; `emit` false keeps only the encoder's state
  // (the client already has them).
  void Start(std::string& out, bool emit);
  // `entries` holds Delta JSON objects separated (or terminated) by commas,
  // the first with sequence number `first_seq`. Deltas up to and including
  // `emit_after_seq` only move the encoder's state; later ones are written.
  // False (and `*error`) when an entry is not Delta JSON.
  bool Replay(std::string_view entries, uint64_t first_seq, uint64_t emit_after_seq, std::string& out,
              std::string* error);
  // One app event ({type:'data'}), with its sequence number (0: no id).
  void Data(std::string& out, std::string_view name, std::string_view data_json, uint64_t seq);
  void Done(std::string& out) { encoder_->Done(out); }
  void Error(std::string& out, const ErrorInfo& error) { encoder_->Error(out, error); }

 private:
  void AppendId(std::string& out, size_t before, uint64_t seq) const;

  std::unique_ptr<Encoder> encoder_;
  bool ids_;
  std::string scratch_;
};

// "stop" → kStop ... the public finish reason names; kOther for anything else.
FinishReason FinishReasonFromName(std::string_view name);

}  // namespace llmrelay

#endif  // LLMRELAY_PIPELINE_DELTA_REPLAY_H_

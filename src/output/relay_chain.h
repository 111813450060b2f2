// The sinks of a relay, composed in one place: the client's socket when
// JavaScript handed one over (direct writes), then heartbeats in front of
// whatever writes downstream, all ending in the JavaScript sink, behind
// which a resumable relay batches its log.
#ifndef LLMRELAY_OUTPUT_RELAY_CHAIN_H_
#define LLMRELAY_OUTPUT_RELAY_CHAIN_H_

#include <uv.h>

#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "output/log_pacer.h"
#include "output/sink.h"

namespace llmrelay {

// What a relay asks of the worker beyond its format.
struct RelaySpec {
  std::string heartbeat;  // sent after heartbeat_ms without a write ("" = none)
  uint64_t heartbeat_ms = 0;
  bool heartbeat_after_head = false;  // none before the provider's head (pipe's errorStatus)
  UniqueFd socket;                    // write to this client socket ourselves (direct)
  std::string preamble;               // with `socket`: the response head Node built but did not send
  LogPacer* log_pacer = nullptr;      // a resumable relay: its log goes on at this pacer's ticks
};

// Builds the chain in front of `to_js`. `text_format`: plain text cannot
// carry an error (the socket sink leaves a failed body unterminated). A
// socket that cannot be used is dropped: the bytes then go to JavaScript,
// which writes them itself.
SinkPtr RelayChain(uv_loop_t* loop, RelaySpec spec, bool text_format, Sink::Notify notify, void* owner, SinkPtr to_js);

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_RELAY_CHAIN_H_

#include "output/relay_chain.h"

#include <utility>

#include "output/heartbeat_sink.h"
#include "output/log_batch_sink.h"
#include "output/socket_sink.h"

namespace llmrelay {

SinkPtr RelayChain(uv_loop_t* loop, RelaySpec spec, bool text_format, Sink::Notify notify, void* owner, SinkPtr to_js) {
  SinkPtr chain = std::move(to_js);
  if (spec.log_pacer != nullptr) chain = LogBatchSink::Create(spec.log_pacer, notify, owner, std::move(chain));
  if (spec.socket.valid()) {
    int error = 0;
    SinkPtr direct =
        SocketSink::Open(loop, std::move(spec.socket), spec.preamble, text_format, notify, owner, chain, &error);
    if (direct) chain = std::move(direct);
  }
  if (spec.heartbeat_ms > 0 && !spec.heartbeat.empty()) {
    chain = HeartbeatSink::Create(loop, std::move(spec.heartbeat), spec.heartbeat_ms, spec.heartbeat_after_head, notify,
                                  owner, std::move(chain));
  }
  return chain;
}

}  // namespace llmrelay

// The one place the native side reads what JavaScript sends: a stream's
// config (lib/options.js builds it) and a consume command. Every key is
// required and typed; a missing or mistyped one is an error naming it, so
// a key renamed on one side cannot pass unnoticed with a silent default.
// Runs on the main thread.
#ifndef LLMRELAY_BINDING_CONFIG_H_
#define LLMRELAY_BINDING_CONFIG_H_

#include <napi.h>

#include <string>

#include "transport/engine.h"
#include "transport/stream_config.h"

namespace llmrelay {

// False (and `*error` set, e.g. "config.timeouts.idleMs: expected an
// integer from 0 to 2147483647") when the object is not what
// lib/options.js builds.
bool ReadStreamConfig(const Napi::Object& js, StreamConfig* config, std::string* error);

// {format, heartbeat: Buffer|null, heartbeatMs, heartbeatAfterHead,
//  socketFd: number (-1: none), preamble: string, firstSeq: number (0: not
//  resumable), outlivesClient: boolean, role: "whole" | "step",
//  messageId: string ("": the stream's own)}. The socket fd is duplicated
// here, on the main thread (output/socket_sink.h says why).
bool ReadConsumeSpec(const Napi::Object& js, ConsumeSpec* spec, std::string* error);

}  // namespace llmrelay

#endif  // LLMRELAY_BINDING_CONFIG_H_

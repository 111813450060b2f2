// The one place the native side reads what JavaScript sends: a stream's
// config (lib/options.js builds it) and a consume command. Every value is
// required and typed; a missing or mistyped one is an error naming its key,
// so a key renamed on one side cannot pass unnoticed with a silent default.
//
// The values come as call arguments, in the order of kConfigKeys and
// kConsumeKeys (exported as constants.configKeys and constants.consumeKeys;
// lib/binding.js flattens its objects in that order and checks the lists at
// load): reading them costs no property lookup, where reading an object
// cost two per key (has and get, each a key string to make), about half of
// the native side of stream().
// Runs on the main thread.
#ifndef LLMRELAY_BINDING_CONFIG_H_
#define LLMRELAY_BINDING_CONFIG_H_

#include <napi.h>

#include <cstddef>
#include <string>

#include "transport/engine.h"
#include "transport/stream_config.h"

namespace llmrelay {

// The keys of the config object lib/options.js builds, in argument order.
inline constexpr const char* kConfigKeys[] = {
    "provider",           "request.url",
    "request.method",     "request.body",
    "request.headers",    "request.http2PriorKnowledge",
    "tls.caFile",         "tls.rejectUnauthorized",
    "timeouts.connectMs", "timeouts.firstByteMs",
    "timeouts.idleMs",    "timeouts.totalMs",
    "retry.attempts",     "retry.baseDelayMs",
    "retry.maxDelayMs",   "maxEventBytes",
    "encoder.responseId", "encoder.model",
    "encoder.created",    "secrets",
};
inline constexpr size_t kConfigValues = sizeof kConfigKeys / sizeof kConfigKeys[0];

// The keys of a consume spec, in argument order: format, heartbeat
// (Buffer|null), heartbeatMs, heartbeatAfterHead, socketFd (-1: none),
// preamble, firstSeq (0: not resumable), outlivesClient, role ("whole" |
// "step"), messageId ("": the stream's own).
inline constexpr const char* kConsumeKeys[] = {
    "format",   "heartbeat",      "heartbeatMs", "heartbeatAfterHead", "socketFd", "preamble",
    "firstSeq", "outlivesClient", "role",        "messageId",
};
inline constexpr size_t kConsumeValues = sizeof kConsumeKeys / sizeof kConsumeKeys[0];

// Reads the kConfigValues arguments from `first` on. False (and `*error`
// set, e.g. "config.timeouts.idleMs: expected an integer from 0 to
// 2147483647") when they are not what lib/options.js builds.
bool ReadStreamConfig(const Napi::CallbackInfo& info, size_t first, StreamConfig* config, std::string* error);

// Reads the kConsumeValues arguments from `first` on. The socket fd is
// duplicated here, on the main thread (output/socket_sink.h says why).
bool ReadConsumeSpec(const Napi::CallbackInfo& info, size_t first, ConsumeSpec* spec, std::string* error);

}  // namespace llmrelay

#endif  // LLMRELAY_BINDING_CONFIG_H_

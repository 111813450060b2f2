// Everything the worker needs to run one stream, filled on the main thread
// by binding/config.cc from the object lib/options.js builds. It has no
// defaults of its own: they live in JavaScript, and the binding rejects a
// missing or mistyped key, so a renamed option cannot pass unnoticed.
#ifndef LLMRELAY_TRANSPORT_STREAM_CONFIG_H_
#define LLMRELAY_TRANSPORT_STREAM_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "encoders/encoder.h"
#include "upstream/deadlines.h"
#include "upstream/http_attempt.h"
#include "upstream/retry_policy.h"

namespace llmrelay {

struct StreamConfig {
  uint32_t id = 0;
  std::string provider;
  HttpRequest request;
  Timeouts timeouts;
  RetryPolicy retry;
  size_t max_event_bytes = 0;
  EncoderOptions encoder;
  // Redacted from what a failure reports (base/redact.h).
  std::vector<std::string> secrets;
};

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_STREAM_CONFIG_H_

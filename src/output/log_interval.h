// How often the engine's log tick hands the resumable relays' log entries
// to JavaScript (log_pacer.h), from how many resumable relays it runs.
//
// The interval grows with the relays so that handoffs stay near
// kLogTargetPerSecond: few relays tick every kLogMinMs (a reader following a
// stream live sees its deltas soon), 500 every 50 ms, 1,000 every 100 ms,
// and never more than kLogMaxMs apart.
#ifndef LLMRELAY_OUTPUT_LOG_INTERVAL_H_
#define LLMRELAY_OUTPUT_LOG_INTERVAL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace llmrelay {

constexpr uint64_t kLogMinMs = 20;
constexpr uint64_t kLogMaxMs = 200;
constexpr uint64_t kLogTargetPerSecond = 10000;

inline uint64_t LogIntervalMs(size_t relays) {
  const uint64_t spread = static_cast<uint64_t>(relays) * 1000 / kLogTargetPerSecond;
  return std::clamp(spread, kLogMinMs, kLogMaxMs);
}

}  // namespace llmrelay

#endif  // LLMRELAY_OUTPUT_LOG_INTERVAL_H_

// Mock LLM provider for the benchmark: one thread, epoll, a hashed timer wheel so
// thousands of paced streams cost one list walk per millisecond, and pre-rendered
// events so sending a token is a memcpy into the connection's output buffer.
//
// Wire formats follow shared/PROVIDERS.md: OpenAI Chat Completions chunks of about
// 300 bytes (obfuscation, system_fingerprint, service_tier, usage chunk, [DONE]) and
// Anthropic Messages events (message_start ... message_stop, with a ping).
// HTTP/1.1 (chunked, keep-alive, pipelining) and, when built with libnghttp2,
// HTTP/2 with prior knowledge (h2c) on the same port, detected by the preface.
//
// Knobs per request, in a path prefix so any SDK's baseURL can carry them:
//   POST /k/tokens=200,pace_us=20000,ttft_us=0,epw=1/v1/chat/completions   (OpenAI)
//   POST /k/.../v1/messages                                                 (Anthropic)
// Defaults come from the command line. pace_us=0 is a burst: events are produced
// as fast as the socket drains. The wheel ticks every millisecond, so pace_us is
// rounded to whole milliseconds.
//   GET /stats   JSON counters (streams active, completed, aborted, bytes)
// Usage: mock-provider [--port 0] [--tokens N] [--pace-us N] [--ttft-us N] [--epw N]
//        mock-provider --dump openai|anthropic --tokens N     (body bytes to stdout)
// Prints "LISTENING <port>" on stdout once it accepts connections.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <unordered_map>

#include "bench_common.h"

#ifdef LLMRELAY_BENCH_H2
#include <nghttp2/nghttp2.h>
#endif

namespace llmrelay_bench {
namespace {

enum class Provider { kOpenAI, kAnthropic };

struct Params {
  uint64_t tokens = 200;
  uint64_t pace_us = 20000;
  uint64_t ttft_us = 0;
  uint32_t epw = 1;
};

// ---------------------------------------------------------------------------
// Pre-rendered events.

constexpr uint32_t kRingEvents = 1024;  // a multiple of kTokenWordCount
constexpr const char* kOpenAIHead =
    "data: {\"id\":\"chatcmpl-C3bK9xQ0mZ7nLrT2vW4yP8sD1fGhJk\",\"object\":\"chat.completion.chunk\","
    "\"created\":1754499881,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_34a54ae93c\",";

// One event per token index modulo kRingEvents, laid out back to back so a run of
// consecutive tokens is one or two contiguous slices.
class EventRing {
 public:
  void Build(Provider provider, uint32_t seed) {
    std::mt19937 rng(seed);
    static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    offsets_.clear();
    data_.clear();
    for (uint32_t i = 0; i < kRingEvents; ++i) {
      offsets_.push_back(static_cast<uint32_t>(data_.size()));
      const std::string& text = TokenText(i);
      if (provider == Provider::kOpenAI) {
        data_.append(kOpenAIHead);
        data_.append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
        AppendJsonEscaped(&data_, text);
        data_.append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"");
        // OpenAI pads short deltas so every chunk has about the same size.
        size_t pad = text.size() < 14 ? 16 - text.size() : 2;
        for (size_t k = 0; k < pad; ++k) data_.push_back(kAlnum[rng() % (sizeof kAlnum - 1)]);
        data_.append("\"}\n\n");
      } else {
        data_.append(
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"");
        AppendJsonEscaped(&data_, text);
        data_.append("\"}}\n\n");
      }
    }
    offsets_.push_back(static_cast<uint32_t>(data_.size()));
  }

  // Appends the events of tokens [from, to).
  void Append(std::string* out, uint64_t from, uint64_t to) const {
    while (from < to) {
      uint32_t a = static_cast<uint32_t>(from % kRingEvents);
      uint64_t run = std::min<uint64_t>(to - from, kRingEvents - a);
      uint32_t b = a + static_cast<uint32_t>(run);
      out->append(data_, offsets_[a], offsets_[b] - offsets_[a]);
      from += run;
    }
  }

  size_t MeanEventBytes() const { return data_.size() / kRingEvents; }

 private:
  std::string data_;
  std::vector<uint32_t> offsets_;
};

void AppendPrologue(Provider provider, std::string* out) {
  if (provider == Provider::kOpenAI) {
    out->append(kOpenAIHead);
    out->append(
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"Qx9V3e\"}\n\n");
  } else {
    out->append(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
        "\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        "\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
        "\"usage\":{\"input_tokens\":19,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
        "\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: ping\ndata: {\"type\": \"ping\"}\n\n");
  }
}

void AppendEpilogue(Provider provider, uint64_t tokens, std::string* out) {
  char buf[768];
  if (provider == Provider::kOpenAI) {
    out->append(kOpenAIHead);
    out->append(
        "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"usage\":null,\"obfuscation\":\"mQ2fWc\"}\n\n");
    out->append(kOpenAIHead);
    std::snprintf(buf, sizeof buf,
                  "\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":%llu,"
                  "\"total_tokens\":%llu,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                  "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
                  "\"obfuscation\":\"Zp4\"}\n\ndata: [DONE]\n\n",
                  static_cast<unsigned long long>(tokens), static_cast<unsigned long long>(tokens + 19));
    out->append(buf);
  } else {
    std::snprintf(buf, sizeof buf,
                  "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                  "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%llu}}\n\n"
                  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                  static_cast<unsigned long long>(tokens));
    out->append(buf);
  }
}

// ---------------------------------------------------------------------------
// Timer wheel: 1 ms ticks, 4096 slots. A node due beyond one revolution stays in
// its slot and is skipped until its tick comes, so scheduling is O(1) and a tick
// costs the nodes in one slot.


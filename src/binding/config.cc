#include "binding/config.h"

#include <fcntl.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "providers/adapter.h"

namespace llmrelay {

namespace {

// Reads positional values (arguments `first`, `first` + 1, ...) named by
// `keys`, recording the first problem.
class Values {
 public:
  Values(const Napi::CallbackInfo& info, size_t first, const char* const* keys, size_t count, const char* what,
         std::string* error)
      : info_(info), first_(first), keys_(keys), what_(what), error_(error) {
    error_->clear();
    if (info.Length() != first + count) {
      *error_ = std::string(what) + ": expected " + std::to_string(count) + " values but received " +
                std::to_string(info.Length() > first ? info.Length() - first : 0);
    }
  }

  bool ok() const { return error_->empty(); }

  std::string String(size_t i) {
    const Napi::Value value = Get(i);
    if (!ok()) return {};
    if (!value.IsString()) {
      Fail(i, "a string");
      return {};
    }
    return value.As<Napi::String>().Utf8Value();
  }

  int64_t Int(size_t i, int64_t min, int64_t max) {
    const Napi::Value value = Get(i);
    if (!ok()) return 0;
    const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1.5;
    if (!value.IsNumber() || number != static_cast<double>(static_cast<int64_t>(number)) ||
        number < static_cast<double>(min) || number > static_cast<double>(max)) {
      Fail(i, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return 0;
    }
    return static_cast<int64_t>(number);
  }

  bool Bool(size_t i) {
    const Napi::Value value = Get(i);
    if (!ok()) return false;
    if (!value.IsBoolean()) {
      Fail(i, "a boolean");
      return false;
    }
    return value.As<Napi::Boolean>().Value();
  }

  std::vector<std::string> Strings(size_t i) {
    std::vector<std::string> out;
    const Napi::Value value = Get(i);
    if (!ok()) return out;
    if (!value.IsArray()) {
      Fail(i, "an array of strings");
      return out;
    }
    const Napi::Array list = value.As<Napi::Array>();
    const uint32_t length = list.Length();
    out.reserve(length);
    for (uint32_t k = 0; k < length; ++k) {
      const Napi::Value item = list.Get(k);
      if (!item.IsString()) {
        Fail(i, "an array of strings");
        return out;
      }
      out.push_back(item.As<Napi::String>().Utf8Value());
    }
    return out;
  }

  // A Buffer's bytes, or "" for null.
  std::string BytesOrNull(size_t i) {
    const Napi::Value value = Get(i);
    if (!ok() || value.IsNull()) return {};
    if (!value.IsBuffer()) {
      Fail(i, "a Buffer or null");
      return {};
    }
    const auto buffer = value.As<Napi::Buffer<char>>();
    return std::string(buffer.Data(), buffer.Length());
  }

  void Fail(size_t i, const std::string& expected) {
    if (ok()) *error_ = std::string(what_) + "." + keys_[i] + ": expected " + expected;
  }

 private:
  Napi::Value Get(size_t i) {
    if (!ok()) return info_.Env().Undefined();
    return info_[first_ + i];
  }

  const Napi::CallbackInfo& info_;
  size_t first_;
  const char* const* keys_;
  const char* what_;
  std::string* error_;
};

constexpr int64_t kMaxMs = std::numeric_limits<int32_t>::max();

// Argument positions, in kConfigKeys order.
enum ConfigValue : size_t {
  kProvider,
  kUrl,
  kMethod,
  kBody,
  kHeaders,
  kHttp2PriorKnowledge,
  kCaFile,
  kRejectUnauthorized,
  kConnectMs,
  kFirstByteMs,
  kIdleMs,
  kTotalMs,
  kAttempts,
  kBaseDelayMs,
  kMaxDelayMs,
  kMaxEventBytes,
  kResponseId,
  kModel,
  kCreated,
  kSecrets,
  kConfigValueCount,
};
static_assert(kConfigValueCount == kConfigValues, "ConfigValue and kConfigKeys disagree");

// Argument positions, in kConsumeKeys order.
enum ConsumeValue : size_t {
  kFormat,
  kHeartbeat,
  kHeartbeatMs,
  kHeartbeatAfterHead,
  kSocketFd,
  kPreamble,
  kFirstSeq,
  kOutlivesClient,
  kRole,
  kMessageId,
  kConsumeValueCount,
};
static_assert(kConsumeValueCount == kConsumeValues, "ConsumeValue and kConsumeKeys disagree");

}  // namespace

bool ReadStreamConfig(const Napi::CallbackInfo& info, size_t first, StreamConfig* config, std::string* error) {
  Values v(info, first, kConfigKeys, kConfigValues, "config", error);
  config->provider = v.String(kProvider);
  if (v.ok() && !CreateAdapter(config->provider)) v.Fail(kProvider, "a provider the native core knows");

  HttpRequest& r = config->request;
  r.url = v.String(kUrl);
  r.method = v.String(kMethod);
  if (v.ok() && r.method != "POST" && r.method != "GET") v.Fail(kMethod, "\"POST\" or \"GET\"");
  r.body = v.String(kBody);
  r.headers = v.Strings(kHeaders);
  r.http2_prior_knowledge = v.Bool(kHttp2PriorKnowledge);
  r.ca_file = v.String(kCaFile);
  r.verify_tls = v.Bool(kRejectUnauthorized);

  Timeouts& t = config->timeouts;
  t.connect_ms = v.Int(kConnectMs, 0, kMaxMs);
  t.first_byte_ms = v.Int(kFirstByteMs, 0, kMaxMs);
  t.idle_ms = v.Int(kIdleMs, 0, kMaxMs);
  t.total_ms = v.Int(kTotalMs, 0, kMaxMs);
  r.connect_ms = t.connect_ms;

  config->retry.attempts = static_cast<uint32_t>(v.Int(kAttempts, 0, 100));
  config->retry.base_delay_ms = v.Int(kBaseDelayMs, 0, kMaxMs);
  config->retry.max_delay_ms = v.Int(kMaxDelayMs, 0, kMaxMs);

  config->max_event_bytes = static_cast<size_t>(v.Int(kMaxEventBytes, 1, kMaxMs));

  config->encoder.id = v.String(kResponseId);
  config->encoder.model = v.String(kModel);
  config->encoder.created = v.Int(kCreated, 0, std::numeric_limits<int32_t>::max() * int64_t{4});

  config->secrets = v.Strings(kSecrets);
  return v.ok();
}

bool ReadConsumeSpec(const Napi::CallbackInfo& info, size_t first, ConsumeSpec* spec, std::string* error) {
  Values v(info, first, kConsumeKeys, kConsumeValues, "consume", error);
  spec->format = v.String(kFormat);
  RelaySpec& relay = spec->relay;
  relay.heartbeat = v.BytesOrNull(kHeartbeat);
  relay.heartbeat_ms = static_cast<uint64_t>(v.Int(kHeartbeatMs, 0, kMaxMs));
  relay.heartbeat_after_head = v.Bool(kHeartbeatAfterHead);
  const int64_t fd = v.Int(kSocketFd, -1, std::numeric_limits<int32_t>::max());
  relay.preamble = v.String(kPreamble);
  spec->first_seq = static_cast<uint64_t>(v.Int(kFirstSeq, 0, int64_t{1} << 52));
  spec->outlives_client = v.Bool(kOutlivesClient);
  const std::string role = v.String(kRole);
  if (role == "step") {
    spec->role = EncoderRole::kRelayStep;
  } else if (role != "whole" && v.ok()) {
    v.Fail(kRole, "\"whole\" or \"step\"");
  }
  spec->message_id = v.String(kMessageId);
  if (!v.ok()) return false;
  if (fd >= 0) {
    // Duplicated here, on the main thread, while Node's socket is certainly
    // open (pipe() checked it in this same call): from now on the worker
    // owns a descriptor for *this* client's socket, whatever becomes of
    // Node's fd number. Close-on-exec, like every descriptor the addon
    // makes. If this fails the worker gets none and the bytes go to
    // JavaScript, which writes them itself.
    relay.socket = UniqueFd(::fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0));
  }
  return true;
}

}  // namespace llmrelay

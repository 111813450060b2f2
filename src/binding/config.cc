#include "binding/config.h"

#include <fcntl.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "providers/adapter.h"

namespace llmrelay {

namespace {

// Reads the keys of one object, recording the first problem.
class Reader {
 public:
  Reader(const Napi::Object& object, std::string path, std::string* error)
      : object_(object), path_(std::move(path)), error_(error) {}

  bool ok() const { return error_->empty(); }

  Reader Object(const char* key) {
    const Napi::Value value = Get(key);
    if (ok() && !value.IsObject()) Fail(key, "an object");
    return Reader(ok() ? value.As<Napi::Object>() : Napi::Object::New(object_.Env()), Path(key), error_);
  }

  std::string String(const char* key) {
    const Napi::Value value = Get(key);
    if (!ok()) return {};
    if (!value.IsString()) {
      Fail(key, "a string");
      return {};
    }
    return value.As<Napi::String>().Utf8Value();
  }

  int64_t Int(const char* key, int64_t min, int64_t max) {
    const Napi::Value value = Get(key);
    if (!ok()) return 0;
    const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1.5;
    if (!value.IsNumber() || number != static_cast<double>(static_cast<int64_t>(number)) ||
        number < static_cast<double>(min) || number > static_cast<double>(max)) {
      Fail(key, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return 0;
    }
    return static_cast<int64_t>(number);
  }

  bool Bool(const char* key) {
    const Napi::Value value = Get(key);
    if (!ok()) return false;
    if (!value.IsBoolean()) {
      Fail(key, "a boolean");
      return false;
    }
    return value.As<Napi::Boolean>().Value();
  }

  std::vector<std::string> Strings(const char* key) {
    std::vector<std::string> out;
    const Napi::Value value = Get(key);
    if (!ok()) return out;
    if (!value.IsArray()) {
      Fail(key, "an array of strings");
      return out;
    }
    const Napi::Array list = value.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value item = list.Get(i);
      if (!item.IsString()) {
        Fail(key, "an array of strings");
        return out;
      }
      out.push_back(item.As<Napi::String>().Utf8Value());
    }
    return out;
  }

  // A Buffer's bytes, or "" for null.
  std::string BytesOrNull(const char* key) {
    const Napi::Value value = Get(key);
    if (!ok() || value.IsNull()) return {};
    if (!value.IsBuffer()) {
      Fail(key, "a Buffer or null");
      return {};
    }
    const auto buffer = value.As<Napi::Buffer<char>>();
    return std::string(buffer.Data(), buffer.Length());
  }

  void Fail(const char* key, const std::string& expected) {
    if (ok()) *error_ = Path(key) + ": expected " + expected;
  }

 private:
  std::string Path(const char* key) const { return path_ + "." + key; }

  Napi::Value Get(const char* key) {
    if (!ok()) return object_.Env().Undefined();
    if (!object_.Has(key)) {
      *error_ = Path(key) + ": missing";
      return object_.Env().Undefined();
    }
    return object_.Get(key);
  }

  Napi::Object object_;
  std::string path_;
  std::string* error_;
};

constexpr int64_t kMaxMs = std::numeric_limits<int32_t>::max();

}  // namespace

bool ReadStreamConfig(const Napi::Object& js, StreamConfig* config, std::string* error) {
  error->clear();
  Reader root(js, "config", error);
  config->provider = root.String("provider");
  if (root.ok() && !CreateAdapter(config->provider)) root.Fail("provider", "a provider the native core knows");

  Reader request = root.Object("request");
  HttpRequest& r = config->request;
  r.url = request.String("url");
  r.method = request.String("method");
  if (request.ok() && r.method != "POST" && r.method != "GET") request.Fail("method", "\"POST\" or \"GET\"");
  r.body = request.String("body");
  r.headers = request.Strings("headers");
  r.http2_prior_knowledge = request.Bool("http2PriorKnowledge");

  Reader tls = root.Object("tls");
  r.ca_file = tls.String("caFile");
  r.verify_tls = tls.Bool("rejectUnauthorized");

  Reader timeouts = root.Object("timeouts");
  Timeouts& t = config->timeouts;
  t.connect_ms = timeouts.Int("connectMs", 0, kMaxMs);
  t.first_byte_ms = timeouts.Int("firstByteMs", 0, kMaxMs);
  t.idle_ms = timeouts.Int("idleMs", 0, kMaxMs);
  t.total_ms = timeouts.Int("totalMs", 0, kMaxMs);
  r.connect_ms = t.connect_ms;

  Reader retry = root.Object("retry");
  config->retry.attempts = static_cast<uint32_t>(retry.Int("attempts", 0, 100));
  config->retry.base_delay_ms = retry.Int("baseDelayMs", 0, kMaxMs);
  config->retry.max_delay_ms = retry.Int("maxDelayMs", 0, kMaxMs);

  config->max_event_bytes = static_cast<size_t>(root.Int("maxEventBytes", 1, kMaxMs));

  Reader encoder = root.Object("encoder");
  config->encoder.id = encoder.String("responseId");
  config->encoder.model = encoder.String("model");
  config->encoder.created = encoder.Int("created", 0, std::numeric_limits<int32_t>::max() * int64_t{4});

  config->secrets = root.Strings("secrets");
  return root.ok();
}

bool ReadConsumeSpec(const Napi::Object& js, ConsumeSpec* spec, std::string* error) {
  error->clear();
  Reader root(js, "consume", error);
  spec->format = root.String("format");
  RelaySpec& relay = spec->relay;
  relay.heartbeat = root.BytesOrNull("heartbeat");
  relay.heartbeat_ms = static_cast<uint64_t>(root.Int("heartbeatMs", 0, kMaxMs));
  relay.heartbeat_after_head = root.Bool("heartbeatAfterHead");
  const int64_t fd = root.Int("socketFd", -1, std::numeric_limits<int32_t>::max());
  relay.preamble = root.String("preamble");
  spec->first_seq = static_cast<uint64_t>(root.Int("firstSeq", 0, int64_t{1} << 52));
  spec->outlives_client = root.Bool("outlivesClient");
  const std::string role = root.String("role");
  if (role == "step") {
    spec->role = EncoderRole::kRelayStep;
  } else if (role != "whole" && root.ok()) {
    root.Fail("role", "\"whole\" or \"step\"");
  }
  spec->message_id = root.String("messageId");
  if (!root.ok()) return false;
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

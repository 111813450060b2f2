// The N-API surface. Context-aware: every Node environment (the main thread
// and each worker_threads Worker) gets its own engine, worker thread and
// handoff, all torn down by an env cleanup hook.
//
// JavaScript-facing functions (lib/binding.js wraps them):
//   setHandler(fn)              fn(records) gets every ready stream per wakeup:
//                               records = [id, head, data, end, tail, id, ...]
//   start(config) -> id         queue a stream (config: see Start)
//   command(id, type[, mode])   1 mode, 2 pause, 3 resume, 4 abort,
//                               5 direct (mode, fd, heartbeat Buffer|null, heartbeatMs, head):
//                                 mode + the worker writes `head` (the
//                                 response head) and then the body to the socket
//                               6 detach (the client's socket is gone)
//   providers()                 the provider names the native core knows
//   parse(provider, format, buffer, chunkSize, iterations)  framing+adapter
//                               over bytes in memory (benchmarks, tests)
#include <napi.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <string>
#include <utility>
#include <vector>

#include "core/pipeline.h"
#include "handoff/handoff.h"
#include "providers/adapter.h"
#include "transport/engine.h"

namespace llmrelay {
namespace {

struct AddonData {
  napi_env env = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  std::unique_ptr<Handoff> handoff;
  std::unique_ptr<Engine> engine;
  napi_ref handler = nullptr;  // the JS function records go to (replaceable)
  uint32_t next_id = 1;
  uint32_t active = 0;            // streams that keep the event loop alive
  std::unordered_set<uint32_t> parked;  // complete answers waiting for a consumer
  bool tsfn_ref = false;
  bool cleaned_up = false;
  std::vector<Handoff::Ready> ready;  // reused across wakeups
};

void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  if (data->cleaned_up) return;
  data->cleaned_up = true;
  // Join the worker before the thread-safe function goes away: after this no
  // thread can call into it.
  if (data->engine) data->engine->Shutdown();
  if (data->tsfn != nullptr) {
    napi_release_threadsafe_function(data->tsfn, napi_tsfn_abort);
    data->tsfn = nullptr;
  }
}

void FinalizeData(napi_env env, void* arg, void* /*hint*/) {
  std::unique_ptr<AddonData> data(static_cast<AddonData*>(arg));
  Cleanup(data.get());
  if (data->handler != nullptr) napi_delete_reference(env, data->handler);
}

AddonData* GetData(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<AddonData*>(data);
}

void SetRef(AddonData* data, bool ref) {
  if (data->tsfn == nullptr || data->tsfn_ref == ref) return;
  data->tsfn_ref = ref;
  if (ref) {
    napi_ref_threadsafe_function(data->env, data->tsfn);
  } else {
    napi_unref_threadsafe_function(data->env, data->tsfn);
  }
}

napi_value StringOrUndefined(napi_env env, const std::string& s) {
  napi_value value;
  if (s.empty()) {
    napi_get_undefined(env, &value);
  } else {
    napi_create_string_utf8(env, s.data(), s.size(), &value);
  }
  return value;
}

// Runs on the main thread: one call drains every ready stream.
void CallJs(napi_env env, napi_value /*js_cb*/, void* context, void* /*data*/) {
  if (env == nullptr) return;
  auto* data = static_cast<AddonData*>(context);
  if (data->cleaned_up || data->handler == nullptr) return;
  napi_value callback = nullptr;
  napi_get_reference_value(env, data->handler, &callback);
  if (callback == nullptr) return;
  data->ready.clear();
  data->handoff->Drain(data->ready);
  if (data->ready.empty()) return;

  napi_value records;
  napi_create_array_with_length(env, data->ready.size() * 5, &records);
  uint32_t slot = 0;
  for (Handoff::Ready& ready : data->ready) {
    Outbox& box = ready.box;
    napi_value id;
    napi_create_uint32(env, ready.id, &id);
    napi_value payload;
    if (box.data.empty()) {
      napi_get_undefined(env, &payload);
    } else if (box.json) {
      napi_create_string_utf8(env, box.data.data(), box.data.size(), &payload);
    } else {
      napi_create_buffer_copy(env, box.data.size(), box.data.data(), nullptr, &payload);
    }
    napi_value tail;
    if (box.tail.empty()) {
      napi_get_undefined(env, &tail);
    } else {
      napi_create_buffer_copy(env, box.tail.size(), box.tail.data(), nullptr, &tail);
    }
    napi_set_element(env, records, slot++, id);
    napi_set_element(env, records, slot++, StringOrUndefined(env, box.head));
    napi_set_element(env, records, slot++, payload);
    napi_set_element(env, records, slot++, StringOrUndefined(env, box.end));
    napi_set_element(env, records, slot++, tail);
    if (box.backlog_paused && box.end.empty()) {
      Command command;
      command.type = CommandType::kResumeBacklog;
      command.id = ready.id;
      data->engine->Post(std::move(command));
    }
    // A parked stream (answer complete, no consumer chosen yet) must not keep
    // the process alive: nothing is in flight, and an abandoned stream would
    // otherwise hold the loop until timeouts.totalMs.
    const bool was_parked = data->parked.count(ready.id) != 0;
    if (box.parked && box.end.empty() && !was_parked) {
      data->parked.insert(ready.id);
      if (data->active > 0 && --data->active == 0) SetRef(data, false);
    }
    if (!box.end.empty()) {
      if (was_parked) {
        data->parked.erase(ready.id);
      } else if (data->active > 0 && --data->active == 0) {
        SetRef(data, false);
      }
    }
  }
  data->ready.clear();
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, callback, 1, &records, nullptr);
}

Napi::Value SetHandler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "setHandler expects a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // A module system that re-evaluates lib/ (Jest's per-file registries)
  // calls this again in the same environment: the new handler replaces the
  // old one, and the engine stays.
  if (data->handler != nullptr) napi_delete_reference(env, data->handler);
  napi_create_reference(env, info[0], 1, &data->handler);
  if (data->tsfn != nullptr) return env.Undefined();
  napi_value name;
  napi_create_string_utf8(env, "llm-relay handoff", NAPI_AUTO_LENGTH, &name);
  napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr,
                                                       data, CallJs, &data->tsfn);
  if (status != napi_ok) {
    Napi::Error::New(env, "Could not create the thread-safe function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Idle until a stream starts: an idle engine never keeps the process alive.
  napi_unref_threadsafe_function(env, data->tsfn);
  napi_threadsafe_function tsfn = data->tsfn;
  data->handoff = std::make_unique<Handoff>([tsfn] {
    // Runs on the worker thread. Non-blocking: the queue is unbounded and
    // holds at most one pending wakeup.
    napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_nonblocking);
  });
  data->engine = std::make_unique<Engine>(data->handoff.get());
  // Registered after the thread-safe function (hooks run in reverse order),
  // so the worker is joined before Node closes the thread-safe function.
  napi_add_env_cleanup_hook(env, Cleanup, data);
  return env.Undefined();
}

int64_t GetInt(const Napi::Object& obj, const char* key, int64_t fallback) {
  Napi::Value value = obj.Get(key);
  return value.IsNumber() ? value.As<Napi::Number>().Int64Value() : fallback;
}

std::string GetString(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsBuffer()) {
    auto buffer = value.As<Napi::Buffer<char>>();
    return std::string(buffer.Data(), buffer.Length());
  }
  return {};
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (data->engine == nullptr) {
    Napi::Error::New(env, "setHandler must be called before start").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "start(config)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object cfg = info[0].As<Napi::Object>();
  auto config = std::make_unique<StreamConfig>();
  config->id = data->next_id;
  data->next_id = data->next_id >= 0xFFFFFFF0u ? 1 : data->next_id + 1;
  config->provider = GetString(cfg, "provider");
  if (!CreateAdapter(config->provider)) {
    Napi::TypeError::New(env, "Unknown provider '" + config->provider + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  config->url = GetString(cfg, "url");
  config->method = GetString(cfg, "method");
  if (config->method.empty()) config->method = "POST";
  config->body = GetString(cfg, "body");
  config->mode = GetString(cfg, "mode");
  Napi::Value headers = cfg.Get("headers");
  if (headers.IsArray()) {
    Napi::Array list = headers.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value item = list.Get(i);
      if (item.IsString()) config->headers.push_back(item.As<Napi::String>().Utf8Value());
    }
  }
  config->connect_ms = GetInt(cfg, "connectMs", config->connect_ms);
  config->first_byte_ms = GetInt(cfg, "firstByteMs", config->first_byte_ms);
  config->idle_ms = GetInt(cfg, "idleMs", config->idle_ms);
  config->total_ms = GetInt(cfg, "totalMs", config->total_ms);
  config->retry_attempts = static_cast<uint32_t>(GetInt(cfg, "retryAttempts", config->retry_attempts));
  config->retry_base_ms = GetInt(cfg, "retryBaseMs", config->retry_base_ms);
  config->retry_max_ms = GetInt(cfg, "retryMaxMs", config->retry_max_ms);
  config->ca_file = GetString(cfg, "caFile");
  config->verify_tls = !cfg.Get("rejectUnauthorized").IsBoolean() ||
                       cfg.Get("rejectUnauthorized").As<Napi::Boolean>().Value();
  config->http2_prior_knowledge = cfg.Get("http2PriorKnowledge").ToBoolean().Value();
  config->max_event_bytes = static_cast<size_t>(GetInt(cfg, "maxEventBytes", static_cast<int64_t>(config->max_event_bytes)));
  config->encoder.id = GetString(cfg, "responseId");
  config->encoder.model = GetString(cfg, "model");
  config->encoder.created = GetInt(cfg, "created", 0);

  Command command;
  command.type = CommandType::kStart;
  const uint32_t id = config->id;
  command.id = id;
  command.config = std::move(config);
  if (!data->engine->Post(std::move(command))) {
    Napi::Error::New(env, "The llm-relay engine is shut down").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (data->active++ == 0) SetRef(data, true);
  return Napi::Number::New(env, id);
}

Napi::Value SendCommand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (data->engine == nullptr || info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    return env.Undefined();
  }
  Command command;
  command.id = info[0].As<Napi::Number>().Uint32Value();
  switch (info[1].As<Napi::Number>().Int32Value()) {
    case 1:
      // A consumer for a parked stream: it is live again until its end.
      if (data->parked.erase(command.id) != 0 && data->active++ == 0) SetRef(data, true);
      command.type = CommandType::kMode;
      if (info.Length() > 2 && info[2].IsString()) command.mode = info[2].As<Napi::String>().Utf8Value();
      break;
    case 2: command.type = CommandType::kPause; break;
    case 3: command.type = CommandType::kResume; break;
    case 4: command.type = CommandType::kAbort; break;
    case 5:
      if (data->parked.erase(command.id) != 0 && data->active++ == 0) SetRef(data, true);
      if (info.Length() < 6 || !info[2].IsString() || !info[3].IsNumber() || !info[5].IsNumber()) {
        Napi::TypeError::New(env, "command(id, 5, mode, fd, heartbeat, heartbeatMs)").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      command.type = CommandType::kDirect;
      command.mode = info[2].As<Napi::String>().Utf8Value();
      command.fd = info[3].As<Napi::Number>().Int32Value();
      if (info[4].IsBuffer()) {
        auto heartbeat = info[4].As<Napi::Buffer<char>>();
        command.heartbeat.assign(heartbeat.Data(), heartbeat.Length());
      }
      command.heartbeat_ms = info[5].As<Napi::Number>().Int64Value();
      if (info.Length() > 6 && info[6].IsString()) {
        // UTF-8, byte for byte what res.flushHeaders() writes for the same
        // head (it hands the string to socket.write without an encoding).
        command.preamble = info[6].As<Napi::String>().Utf8Value();
      }
      break;
    case 6: command.type = CommandType::kDetach; break;
    default: return env.Undefined();
  }
  data->engine->Post(std::move(command));
  return env.Undefined();
}

// setTrustStore(pem): the certificates the bundled libcurl verifies servers
// with (lib/trust-store.js; only called when needsTrustStore is true).
Napi::Value SetTrustStore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (data->engine == nullptr || info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "setTrustStore(pem) after setHandler").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Command command;
  command.type = CommandType::kTrustStore;
  command.pem = info[0].As<Napi::String>().Utf8Value();
  data->engine->Post(std::move(command));
  return env.Undefined();
}

Napi::Value Providers(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::string(KnownProviders()));
}

// Runs framing + adapter (+ encoder) over bytes in memory on the calling
// thread; for the parse micro-benchmark and for tests of the native path.
Napi::Value Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsBuffer() ||
      !info[3].IsNumber() || !info[4].IsNumber()) {
    Napi::TypeError::New(env, "parse(provider, format, buffer, chunkSize, iterations)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const std::string provider = info[0].As<Napi::String>().Utf8Value();
  const std::string format = info[1].As<Napi::String>().Utf8Value();
  auto buffer = info[2].As<Napi::Buffer<char>>();
  const size_t chunk = std::max<int64_t>(1, info[3].As<Napi::Number>().Int64Value());
  const int64_t iterations = std::max<int64_t>(1, info[4].As<Napi::Number>().Int64Value());
  std::string last_output;
  std::string last_summary;
  std::string error_code;
  const uint64_t t0 = uv_hrtime();
  for (int64_t i = 0; i < iterations; ++i) {
    auto adapter = CreateAdapter(provider);
    if (!adapter) {
      Napi::TypeError::New(env, "Unknown provider '" + provider + "'").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    StreamPipeline pipeline(std::move(adapter), size_t{8} << 20, EncoderOptions{"bench", "bench", 0});
    if (!pipeline.SetMode(format)) {
      Napi::TypeError::New(env, "Unknown format '" + format + "'").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    for (size_t off = 0; off < buffer.Length(); off += chunk) {
      if (!pipeline.Feed(buffer.Data() + off, std::min(chunk, buffer.Length() - off), 0)) break;
      if (pipeline.output().size() > (1 << 20)) pipeline.output().clear();
    }
    if (pipeline.Finish(0)) pipeline.EncodeDone();
    if (i + 1 == iterations) {
      last_output = pipeline.output();
      last_summary.clear();
      pipeline.summary().AppendJson(last_summary, pipeline.metrics(), pipeline.failed() ? "error" : "completed");
      error_code = pipeline.error().code;
    }
  }
  const uint64_t elapsed = uv_hrtime() - t0;
  Napi::Object result = Napi::Object::New(env);
  result.Set("ns", Napi::Number::New(env, static_cast<double>(elapsed)));
  result.Set("output", Napi::Buffer<char>::Copy(env, last_output.data(), last_output.size()));
  result.Set("summary", Napi::String::New(env, last_summary));
  result.Set("error", Napi::String::New(env, error_code));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static std::once_flag curl_once;
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto data = std::make_unique<AddonData>();
  data->env = env;
  napi_set_instance_data(env, data.release(), FinalizeData, nullptr);
  exports.Set("setHandler", Napi::Function::New(env, SetHandler, "setHandler"));
  exports.Set("start", Napi::Function::New(env, Start, "start"));
  exports.Set("command", Napi::Function::New(env, SendCommand, "command"));
  exports.Set("providers", Napi::Function::New(env, Providers, "providers"));
  exports.Set("parse", Napi::Function::New(env, Parse, "parse"));
  exports.Set("curlVersion", Napi::String::New(env, curl_version()));
  exports.Set("setTrustStore", Napi::Function::New(env, SetTrustStore, "setTrustStore"));
  exports.Set("needsTrustStore", Napi::Boolean::New(env, TrustStore::kNeeded));
  return exports;
}

}  // namespace
}  // namespace llmrelay

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return llmrelay::Init(env, exports);
}

NODE_API_MODULE(llm_relay, InitModule)

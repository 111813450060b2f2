// The N-API surface. Context-aware: every Node environment (the main thread
// and each worker_threads Worker) gets its own engine, worker thread and
// handoff, all torn down by an env cleanup hook.
//
// JavaScript-facing functions (lib/binding.js wraps them):
//   constants                   command numbers, error codes, provider and
//                               format names, the record layout
//   setHandler(fn)              fn(records) gets every ready stream per wakeup:
//                               records = [id, head, data, end, tail, id, ...]
//                               (constants.recordSlots)
//   start(...config) -> id      queue a stream (its config's values in the
//                               order of constants.configKeys: binding/config.h)
//   wake()                      send what start() queued to the worker
//   command(id, kind[, ...spec]) constants.commands; CONSUME takes the spec's
//                               values (constants.consumeKeys)
//   Encoder                     new Encoder(format, options): encodes on the
//                               main thread (binding/encoder_object.h)
//   parse(...)                  framing + adapter over bytes in memory, for
//                               the benchmarks and tests (binding/bench.cc)
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/records.h"
#include "binding/bench.h"
#include "binding/config.h"
#include "binding/encoder_object.h"
#include "encoders/encoder.h"
#include "handoff/handoff.h"
#include "handoff/js_sink.h"
#include "providers/adapter.h"
#include "transport/engine.h"
#include "upstream/trust_store.h"

namespace llmrelay {
namespace {

// The layout of one stream's record in the array setHandler's function gets.
constexpr uint32_t kSlotId = 0;
constexpr uint32_t kSlotHead = 1;   // JSON: the provider's 2xx head
constexpr uint32_t kSlotData = 2;   // string (Delta JSON) or Buffer (relay bytes)
constexpr uint32_t kSlotEnd = 3;    // JSON: the end record (base/records.h)
constexpr uint32_t kSlotTail = 4;   // Buffer: the format's last bytes
constexpr uint32_t kSlotLog = 5;    // index k into the wakeup's log table (resumable relays, see CallJs)
constexpr uint32_t kLogFields = 4;  // per log entry in the table: first seq, count, start, end
constexpr uint32_t kRecordSlots = 6;
constexpr size_t kKeptLogBytes = size_t{1} << 20;

struct AddonData {
  napi_env env = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  std::unique_ptr<Handoff> handoff;
  std::unique_ptr<HandoffHost> host;
  std::unique_ptr<Engine> engine;
  napi_ref handler = nullptr;  // the JS function records go to (replaceable)
  uint32_t next_id = 1;
  uint32_t active = 0;                    // streams that keep the event loop alive
  std::unordered_set<uint32_t> parked;    // complete answers waiting for a consumer
  std::unordered_set<uint32_t> consumed;  // a consumer was chosen while the stream was live
  bool tsfn_ref = false;
  bool cleaned_up = false;
  std::vector<Handoff::Ready> ready;  // reused across wakeups
  std::string logs;                   // this wakeup's log entries, back to back (reused)
  std::vector<double> log_table;      // kLogFields per log record (reused)
  std::vector<uint32_t> drained;      // streams whose backlog this wakeup took
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

// Runs on the main thread: one call drains every ready stream and hands the
// wakeup's records to JavaScript: handler(records, logBytes,
// logTable). `records` holds kRecordSlots per stream, with holes where a
// slot is empty (each element set costs a call). The resume log entries of
// every record go into one Buffer, `logBytes`, described by the Float64Array
// `logTable`: a record whose log slot holds k has its batch's first sequence
// number at logTable[4k], its count at [4k+1] and its Delta JSON at
// logBytes[4k+2 .. 4k+3). One Buffer per wakeup instead of one per stream:
// at 1,000 resumable relays the log is most of what crosses here.
void CallJs(napi_env env, napi_value /*js_cb*/, void* context, void* /*data*/) {
  if (env == nullptr) return;
  auto* data = static_cast<AddonData*>(context);
  if (data->cleaned_up || data->handler == nullptr) return;
  napi_value callback = nullptr;
  napi_get_reference_value(env, data->handler, &callback);
  if (callback == nullptr) return;
  data->ready.clear();
  data->drained.clear();
  data->handoff->Drain(data->ready);
  if (data->ready.empty()) return;

  napi_value records;
  napi_create_array_with_length(env, data->ready.size() * kRecordSlots, &records);
  data->logs.clear();
  data->log_table.clear();
  uint32_t base = 0;
  for (Handoff::Ready& ready : data->ready) {
    Outbox& box = ready.box;
    napi_value value;
    napi_create_uint32(env, ready.id, &value);
    napi_set_element(env, records, base + kSlotId, value);
    if (!box.head.empty()) {
      napi_create_string_utf8(env, box.head.data(), box.head.size(), &value);
      napi_set_element(env, records, base + kSlotHead, value);
    }
    if (!box.data.empty()) {
      if (box.json) {
        napi_create_string_utf8(env, box.data.data(), box.data.size(), &value);
      } else {
        napi_create_buffer_copy(env, box.data.size(), box.data.data(), nullptr, &value);
      }
      napi_set_element(env, records, base + kSlotData, value);
    }
    if (!box.end.empty()) {
      napi_create_string_utf8(env, box.end.data(), box.end.size(), &value);
      napi_set_element(env, records, base + kSlotEnd, value);
    }
    if (!box.tail.empty()) {
      napi_create_buffer_copy(env, box.tail.size(), box.tail.data(), nullptr, &value);
      napi_set_element(env, records, base + kSlotTail, value);
    }
    if (box.log_count != 0) {
      const auto k = static_cast<uint32_t>(data->log_table.size() / kLogFields);
      data->log_table.push_back(static_cast<double>(box.log_first_seq));
      data->log_table.push_back(static_cast<double>(box.log_count));
      data->log_table.push_back(static_cast<double>(data->logs.size()));
      data->logs.append(box.log);
      data->log_table.push_back(static_cast<double>(data->logs.size()));
      napi_create_uint32(env, k, &value);
      napi_set_element(env, records, base + kSlotLog, value);
    }
    base += kRecordSlots;
    if (box.backlog_paused && box.end.empty()) data->drained.push_back(ready.id);
    // A parked stream (answer complete, no consumer chosen yet) must not keep
    // the process alive: nothing is in flight, and an abandoned stream would
    // otherwise hold the loop until timeouts.totalMs. A park that crossed a
    // consumer already sent is stale: the worker is finishing the stream for
    // that consumer, and unreferencing now would let the process exit before
    // its end arrives (done never settling).
    const bool was_parked = data->parked.count(ready.id) != 0;
    if (box.parked && box.end.empty() && !was_parked && data->consumed.count(ready.id) == 0) {
      data->parked.insert(ready.id);
      if (data->active > 0 && --data->active == 0) SetRef(data, false);
    }
    if (!box.end.empty()) {
      data->consumed.erase(ready.id);
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
  napi_value args[3] = {records, undefined, undefined};
  if (!data->log_table.empty()) {
    // A Buffer: a store that writes to Redis sends the bytes as they are.
    napi_create_buffer_copy(env, data->logs.size(), data->logs.data(), nullptr, &args[1]);
    void* table = nullptr;
    napi_value table_buffer;
    const size_t table_bytes = data->log_table.size() * sizeof(double);
    napi_create_arraybuffer(env, table_bytes, &table, &table_buffer);
    std::memcpy(table, data->log_table.data(), table_bytes);
    napi_create_typedarray(env, napi_float64_array, data->log_table.size(), table_buffer, 0, &args[2]);
    // A burst can make these large; keep no more than a usual wakeup's worth.
    if (data->logs.capacity() > kKeptLogBytes) std::string().swap(data->logs);
  }
  napi_call_function(env, undefined, callback, 3, args, nullptr);
  // The backlogs are resumed after JavaScript saw the records: a consumer
  // that is full now (a slow socket) has posted its kPause already, and the
  // worker applies both in order, so it never reads another batch between
  // the two. Posted before the call, each pause let one more batch through.
  if (data->cleaned_up) return;
  for (const uint32_t id : data->drained) {
    Command command;
    command.kind = CommandKind::kResumeBacklog;
    command.id = id;
    data->engine->Post(std::move(command));
  }
  data->drained.clear();
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
  napi_status status =
      napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, data, CallJs, &data->tsfn);
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
  data->host = std::make_unique<HandoffHost>(data->handoff.get());
  data->engine = std::make_unique<Engine>(data->host.get());
  // Registered after the thread-safe function (hooks run in reverse order),
  // so the worker is joined before Node closes the thread-safe function.
  napi_add_env_cleanup_hook(env, Cleanup, data);
  return env.Undefined();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (data->engine == nullptr) {
    Napi::Error::New(env, "llm-relay internal: setHandler must be called before start").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto config = std::make_unique<StreamConfig>();
  std::string error;
  if (!ReadStreamConfig(info, 0, config.get(), &error)) {
    Napi::TypeError::New(env, "llm-relay internal: " + error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  config->id = data->next_id;
  data->next_id = data->next_id >= 0xFFFFFFF0u ? 1 : data->next_id + 1;
  Command command;
  command.kind = CommandKind::kStart;
  const uint32_t id = config->id;
  command.id = id;
  command.config = std::move(config);
  // No wakeup yet: lib/binding.js calls wake() at the end of this turn of
  // the main loop, so the CONSUME that usually follows rides along.
  if (!data->engine->Post(std::move(command), false)) {
    Napi::Error::New(env, "The llm-relay engine is shut down").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (data->active++ == 0) SetRef(data, true);
  return Napi::Number::New(env, id);
}

// command(id, kind[, ...spec]): kind is one of the numbers in
// constants.commands; CONSUME takes the spec binding/config.h describes.
Napi::Value SendCommand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "llm-relay internal: command(id, kind[, ...spec])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (data->engine == nullptr) return env.Undefined();
  Command command;
  command.id = info[0].As<Napi::Number>().Uint32Value();
  const int32_t kind = info[1].As<Napi::Number>().Int32Value();
  bool known = false;
  for (const CommandKind js : kJsCommands) known = known || static_cast<int32_t>(js) == kind;
  if (!known) {
    Napi::TypeError::New(env, "llm-relay internal: unknown command " + std::to_string(kind))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  command.kind = static_cast<CommandKind>(kind);
  if (command.kind == CommandKind::kConsume) {
    std::string error;
    if (!ReadConsumeSpec(info, 2, &command.consume, &error)) {
      Napi::TypeError::New(env, "llm-relay internal: " + error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // A consumer for a parked stream: it is live again until its end. For one
    // not parked (yet), remember the choice: a park still on its way is stale.
    if (data->parked.erase(command.id) != 0) {
      if (data->active++ == 0) SetRef(data, true);
    } else {
      data->consumed.insert(command.id);
    }
  }
  data->engine->Post(std::move(command));
  return env.Undefined();
}

// wake(): sends the commands start() queued without a wakeup.
Napi::Value Wake(const Napi::CallbackInfo& info) {
  AddonData* data = GetData(info.Env());
  if (data->engine != nullptr) data->engine->Wake();
  return info.Env().Undefined();
}

// setTrustStore(pem): the certificates the bundled libcurl verifies servers
// with (lib/trust-store.js; only called when needsTrustStore is true).
Napi::Value SetTrustStore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetData(env);
  if (data->engine == nullptr || info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "llm-relay internal: setTrustStore(pem) after setHandler").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Command command;
  command.kind = CommandKind::kTrustStore;
  command.pem = info[0].As<Napi::String>().Utf8Value();
  data->engine->Post(std::move(command));
  return env.Undefined();
}

// What lib/binding.js reads instead of repeating numbers and names.
Napi::Object Constants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  Napi::Object commands = Napi::Object::New(env);
  for (const CommandKind kind : kJsCommands) {
    commands.Set(std::string(CommandKindName(kind)), Napi::Number::New(env, static_cast<double>(kind)));
  }
  constants.Set("commands", commands);
  Napi::Array codes = Napi::Array::New(env);
  for (const ErrorCode code : kErrorCodes)
    codes.Set(codes.Length(), Napi::String::New(env, std::string(ErrorCodeName(code))));
  constants.Set("errorCodes", codes);
  Napi::Array providers = Napi::Array::New(env);
  for (const std::string_view name : ProviderNames())
    providers.Set(providers.Length(), Napi::String::New(env, std::string(name)));
  constants.Set("providers", providers);
  Napi::Array formats = Napi::Array::New(env);
  for (const std::string_view name : FormatNames())
    formats.Set(formats.Length(), Napi::String::New(env, std::string(name)));
  constants.Set("formats", formats);
  Napi::Object slots = Napi::Object::New(env);
  slots.Set("id", Napi::Number::New(env, kSlotId));
  slots.Set("head", Napi::Number::New(env, kSlotHead));
  slots.Set("data", Napi::Number::New(env, kSlotData));
  slots.Set("end", Napi::Number::New(env, kSlotEnd));
  slots.Set("tail", Napi::Number::New(env, kSlotTail));
  slots.Set("log", Napi::Number::New(env, kSlotLog));
  slots.Set("size", Napi::Number::New(env, kRecordSlots));
  constants.Set("recordSlots", slots);
  Napi::Array config_keys = Napi::Array::New(env);
  for (const char* key : kConfigKeys) config_keys.Set(config_keys.Length(), Napi::String::New(env, key));
  constants.Set("configKeys", config_keys);
  Napi::Array consume_keys = Napi::Array::New(env);
  for (const char* key : kConsumeKeys) consume_keys.Set(consume_keys.Length(), Napi::String::New(env, key));
  constants.Set("consumeKeys", consume_keys);
  return constants;
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
  exports.Set("wake", Napi::Function::New(env, Wake, "wake"));
  exports.Set("parse", Napi::Function::New(env, ParseForBench, "parse"));
  exports.Set("constants", Constants(env));
  exports.Set("setTrustStore", Napi::Function::New(env, SetTrustStore, "setTrustStore"));
  exports.Set("needsTrustStore", Napi::Boolean::New(env, TrustStore::kNeeded));
  InitEncoderObject(env, exports);
  exports.Set("curlVersion", Napi::String::New(env, curl_version()));
  return exports;
}

}  // namespace
}  // namespace llmrelay

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return llmrelay::Init(env, exports); }

NODE_API_MODULE(llm_relay, InitModule)

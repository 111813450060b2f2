#include "binding/encoder_object.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "encoders/encoder.h"
#include "pipeline/delta_replay.h"

namespace llmrelay {

namespace {

Napi::Value ToBuffer(Napi::Env env, const std::string& bytes) {
  const Napi::Buffer<char> buffer = Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
  return Napi::Value(env, buffer);  // the handle only, not the buffer's cached length
}

std::string StringOr(const Napi::Object& object, const char* key, std::string_view fallback) {
  const Napi::Value value = object.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string(fallback);
}

// Methods (each returns a Buffer of the bytes to write; empty: nothing):
//   start(emit)                              the format's opening bytes
//   replay(entries, firstSeq, emitAfterSeq)  log entries (Delta JSON) →
//                                            bytes, from seq emitAfterSeq+1
//   data(name, dataJson, seq)                one app event
//   done()                                   the clean end
//   error({code, message, status?, retryAfterMs?})
class EncoderObject final : public Napi::ObjectWrap<EncoderObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LlmRelayEncoder",
                       {InstanceMethod<&EncoderObject::Start>("start"),
                        InstanceMethod<&EncoderObject::Replay>("replay"), InstanceMethod<&EncoderObject::Data>("data"),
                        InstanceMethod<&EncoderObject::Done>("done"), InstanceMethod<&EncoderObject::Error>("error")});
  }

  explicit EncoderObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderObject>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "llm-relay internal: createEncoder(format, options)").ThrowAsJavaScriptException();
      return;
    }
    const std::string format = info[0].As<Napi::String>().Utf8Value();
    const Napi::Object options = info[1].As<Napi::Object>();
    EncoderOptions encoder_options;
    encoder_options.id = StringOr(options, "responseId", "");
    encoder_options.model = StringOr(options, "model", "");
    const Napi::Value created = options.Get("created");
    encoder_options.created = created.IsNumber() ? created.As<Napi::Number>().Int64Value() : 0;
    const std::string role = StringOr(options, "role", "whole");
    // 'step': a resumed reader re-encodes each forwarded step of a
    // multi-step relay with its own step encoder, as the live relay did.
    encoder_options.role = role == "outer"  ? EncoderRole::kRelayOuter
                           : role == "step" ? EncoderRole::kRelayStep
                                            : EncoderRole::kWhole;
    std::unique_ptr<Encoder> encoder = CreateEncoder(format, encoder_options);
    if (!encoder || format == "json" || format == "log") {
      Napi::TypeError::New(env, "llm-relay internal: unknown format " + format).ThrowAsJavaScriptException();
      return;
    }
    replay_ = std::make_unique<DeltaReplay>(std::move(encoder), options.Get("ids").ToBoolean().Value());
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    out_.clear();
    if (replay_) replay_->Start(out_, info.Length() < 1 || info[0].ToBoolean().Value());
    return ToBuffer(info.Env(), out_);
  }

  Napi::Value Replay(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    out_.clear();
    if (!replay_ || info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "llm-relay internal: replay(entries, firstSeq, emitAfterSeq)")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const std::string entries = info[0].As<Napi::String>().Utf8Value();
    const auto first = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
    const auto after = static_cast<uint64_t>(std::max<int64_t>(0, info[2].As<Napi::Number>().Int64Value()));
    std::string error;
    if (!replay_->Replay(entries, first, after, out_, &error)) {
      Napi::Error::New(env, "llm-relay: " + error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return ToBuffer(env, out_);
  }

  Napi::Value Data(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    out_.clear();
    if (!replay_ || info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "llm-relay internal: data(name, dataJson, seq)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    replay_->Data(out_, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                  static_cast<uint64_t>(std::max<int64_t>(0, info[2].As<Napi::Number>().Int64Value())));
    return ToBuffer(env, out_);
  }

  Napi::Value Done(const Napi::CallbackInfo& info) {
    out_.clear();
    if (replay_) replay_->Done(out_);
    return ToBuffer(info.Env(), out_);
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    out_.clear();
    if (!replay_ || info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "llm-relay internal: error({code, message})").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const Napi::Object fields = info[0].As<Napi::Object>();
    const std::string code = StringOr(fields, "code", "PROVIDER_ERROR");
    const std::string message = StringOr(fields, "message", "");
    ErrorInfo error{code, message};
    const Napi::Value status = fields.Get("status");
    if (status.IsNumber()) error.status = status.As<Napi::Number>().Int64Value();
    const Napi::Value retry = fields.Get("retryAfterMs");
    if (retry.IsNumber()) error.retry_after_ms = retry.As<Napi::Number>().Int64Value();
    replay_->Error(out_, error);
    return ToBuffer(env, out_);
  }

  std::unique_ptr<DeltaReplay> replay_;
  std::string out_;
};

}  // namespace

void InitEncoderObject(Napi::Env env, Napi::Object exports) { exports.Set("Encoder", EncoderObject::Define(env)); }

}  // namespace llmrelay

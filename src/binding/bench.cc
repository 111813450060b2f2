#include "binding/bench.h"

#include <uv.h>

#include <algorithm>
#include <string>

#include "base/records.h"
#include "pipeline/pipeline.h"
#include "providers/adapter.h"

namespace llmrelay {

Napi::Value ParseForBench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsBuffer() || !info[3].IsNumber() ||
      !info[4].IsNumber()) {
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
      error_code = ErrorCodeName(pipeline.error().code);
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

}  // namespace llmrelay

// parse(provider, format, buffer, chunkSize, iterations): the native framing
// + adapter (+ encoder) over bytes in memory, on the calling thread. For
// the parse micro-benchmark and for tests of the native path; not part of
// the public API.
#ifndef LLMRELAY_BINDING_BENCH_H_
#define LLMRELAY_BINDING_BENCH_H_

#include <napi.h>

namespace llmrelay {

Napi::Value ParseForBench(const Napi::CallbackInfo& info);

}  // namespace llmrelay

#endif  // LLMRELAY_BINDING_BENCH_H_

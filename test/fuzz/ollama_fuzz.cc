// libFuzzer target for the "ollama" provider adapter (built and run by
// scripts/fuzz.sh). The checks live in adapter_fuzz_driver.h: split-
// independence through the real framing, and the adapter contract.
#include <cstddef>
#include <cstdint>

#include "adapter_fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return llmrelay::fuzz::RunAdapterFuzz("ollama", data, size);
}

// Ways to split a test input into reads, shared by the framing tests: every
// vector runs whole, split at each single boundary, in 1-byte reads and in
// seeded random reads (empty reads included).
#ifndef LLMRELAY_TEST_CPP_CHUNKING_H_
#define LLMRELAY_TEST_CPP_CHUNKING_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace llmrelay {
namespace test_support {

// A way to split an input: read boundaries as offsets into it.
struct Chunking {
  std::string label;
  std::vector<size_t> cuts;  // ascending, each in [0, size]
};

inline std::vector<Chunking> EveryChunking(size_t size) {
  std::vector<Chunking> all;
  all.push_back({"whole", {}});
  for (size_t cut = 0; cut <= size; ++cut) {
    all.push_back({"split at " + std::to_string(cut), {cut}});
  }
  Chunking bytes{"1-byte reads", {}};
  for (size_t cut = 1; cut < size; ++cut) bytes.cuts.push_back(cut);
  all.push_back(std::move(bytes));
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    std::mt19937 rng(seed);
    // Mostly short reads, sometimes long ones; empty reads are allowed.
    std::uniform_int_distribution<size_t> small(0, 5);
    std::uniform_int_distribution<size_t> large(6, 64);
    Chunking random{"random reads, seed " + std::to_string(seed), {}};
    for (size_t at = 0;;) {
      at += (rng() % 4 == 0) ? large(rng) : small(rng);
      if (at >= size) break;
      random.cuts.push_back(at);
    }
    all.push_back(std::move(random));
  }
  return all;
}

}  // namespace test_support
}  // namespace llmrelay

#endif  // LLMRELAY_TEST_CPP_CHUNKING_H_

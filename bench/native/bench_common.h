// Shared pieces of the native bench tools (mock provider and load client).
// Both sides must agree on the token sequence: the mock sends token i, the load
// client checks that exactly token i arrived, so a lost, duplicated or reordered
// token is detected by content and not only by count.
#ifndef LLMRELAY_BENCH_COMMON_H_
#define LLMRELAY_BENCH_COMMON_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace llmrelay_bench {

inline uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// 64 tokens in UTF-8. Mostly short words with a leading space (what BPE tokens
// look like), plus the characters that force JSON escaping or multi-byte UTF-8:
// a quote, a backslash, a newline, a tab, accented Latin, CJK and an emoji.
// Every relay must pass them through byte-exact.
inline const std::vector<std::string>& TokenWords() {
  // A table, eight words a row.
  // clang-format off
  static const std::vector<std::string> words = {
      " The",     " model",   " streams", " tokens",  ",",        " one",     " at",      " a",
      " time",    ".",        "\n",       " Each",    " chunk",   " carries", " \"quoted\"", " text",
      " and",     " some",    " caf\xc3\xa9", " \xe6\x9d\xb1\xe4\xba\xac", " \xf0\x9f\x99\x82", " back\\slash", "\t", " relay",
      " proxies", " must",    " not",     " buffer",  ";",        " the",     " browser", " sees",
      " every",   " delta",   " as",      " soon",    " it",      " arrives", "!",        " Latency",
      " matters", " more",    " than",    " bulk",    " throughput", " here",  ":",        " <b>",
      " 42",      " %",       " done",    "?",        " yes",     " ok",      " JSON",    " split",
      " across",  " reads",   " is",      " normal",  "\n\n",     " end",     " of",      " line"};
  // clang-format on
  return words;
}

inline constexpr uint32_t kTokenWordCount = 64;

// Token i of every stream. Multiplying by 13 (coprime with 64) permutes the list so
// neighbouring tokens differ.
inline const std::string& TokenText(uint64_t i) {
  return TokenWords()[static_cast<size_t>((i * 13) % kTokenWordCount)];
}

// JSON string body (no quotes) for the characters the token list uses; non-ASCII
// stays raw UTF-8 as OpenAI and Anthropic send it.
inline void AppendJsonEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
}

inline void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

inline bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Reads a whole small /proc file into *out; false when it is gone.
inline bool ReadSmallFile(const char* path, std::string* out) {
  out->clear();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return !out->empty();
}

// CPU time of one process, read from outside it. Main thread: the kernel's
// nanosecond sum_exec_runtime of the task whose tid is the pid
// (/proc/<pid>/task/<pid>/schedstat). Whole process: utime+stime of
// /proc/<pid>/stat (all threads, exited ones included, USER_HZ resolution) and
// the nanosecond sum over the live threads' schedstat; the larger wins, so a
// thread that exited during the window cannot hide its time.
struct ProcCpu {
  bool ok = false;
  uint64_t main_ns = 0;
  uint64_t threads_ns = 0;  // sum of live tasks' schedstat
  uint64_t stat_ns = 0;     // utime+stime of the whole process
  uint64_t rss_kb = 0;
  int threads = 0;
};

inline uint64_t ParseSchedstatNs(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

inline ProcCpu ReadProcCpu(int pid) {
  ProcCpu r;
  std::string s;
  char path[128];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, pid);
  if (!ReadSmallFile(path, &s)) return r;
  r.main_ns = ParseSchedstatNs(s);
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (!ReadSmallFile(path, &s)) return r;
  // Fields after the ")" that closes comm: state is field 3; utime 14, stime 15, num_threads 20.
  size_t p = s.rfind(')');
  if (p == std::string::npos) return r;
  const char* c = s.c_str() + p + 2;
  long clk = sysconf(_SC_CLK_TCK);
  uint64_t fields[20] = {0};
  for (int f = 3; f <= 20; ++f) {
    while (*c == ' ') ++c;
    if (f == 3) {
      ++c;  // state char
      continue;
    }
    char* end = nullptr;
    fields[f - 1] = std::strtoull(c, &end, 10);
    if (end == c) break;
    c = end;
  }
  r.stat_ns = (fields[13] + fields[14]) * (1000000000ULL / static_cast<uint64_t>(clk));
  r.threads = static_cast<int>(fields[19]);
  // Sum the live tasks' schedstat.
  std::snprintf(path, sizeof path, "/proc/%d/task", pid);
  if (DIR* dir = opendir(path)) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char tpath[320];
      std::snprintf(tpath, sizeof tpath, "/proc/%d/task/%s/schedstat", pid, e->d_name);
      if (ReadSmallFile(tpath, &s)) r.threads_ns += ParseSchedstatNs(s);
    }
    closedir(dir);
  }
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (ReadSmallFile(path, &s)) {
    size_t q = s.find("VmRSS:");
    if (q != std::string::npos) r.rss_kb = std::strtoull(s.c_str() + q + 6, nullptr, 10);
  }
  r.ok = true;
  return r;
}

// Exact below 100 ms (1 µs buckets), then 1 ms buckets up to 100 s: gap and TTFT
// percentiles stay exact where the targets are, and no sample is ever dropped.
class Histogram {
 public:
  Histogram() : fine_(kFine, 0), coarse_(kCoarse, 0) {}
  void Add(uint64_t ns) {
    uint64_t us = ns / 1000;
    ++count_;
    sum_us_ += us;
    if (us > max_us_) max_us_ = us;
    if (us < kFine) {
      ++fine_[us];
    } else {
      uint64_t ms = us / 1000;
      ++coarse_[ms < kCoarse ? ms : kCoarse - 1];
    }
  }
  uint64_t count() const { return count_; }
  // Value in µs at quantile q (0..1), nearest-rank.
  double Percentile(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
    if (rank >= count_) rank = count_ - 1;
    uint64_t seen = 0;
    for (uint64_t i = 0; i < kFine; ++i) {
      seen += fine_[i];
      if (seen > rank) return static_cast<double>(i);
    }
    for (uint64_t i = 0; i < kCoarse; ++i) {
      seen += coarse_[i];
      if (seen > rank) return static_cast<double>(i * 1000);
    }
    return static_cast<double>(max_us_);
  }
  double MeanUs() const { return count_ ? static_cast<double>(sum_us_) / static_cast<double>(count_) : 0; }
  uint64_t MaxUs() const { return max_us_; }

 private:
  static constexpr uint64_t kFine = 100000;
  static constexpr uint64_t kCoarse = 100000;
  std::vector<uint32_t> fine_;
  std::vector<uint32_t> coarse_;
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace llmrelay_bench

#endif  // LLMRELAY_BENCH_COMMON_H_

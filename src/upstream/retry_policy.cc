#include "upstream/retry_policy.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

namespace llmrelay {

int64_t RetryDelayMs(const RetryPolicy& policy, uint32_t retries_so_far, const AttemptFailure& failure,
                     int64_t remaining_ms, double jitter) {
  if (retries_so_far >= policy.attempts || failure.delivered) return -1;
  bool retryable = false;
  bool hinted = false;
  switch (failure.code) {
    case ErrorCode::kNetwork: retryable = failure.transient_network; break;
    case ErrorCode::kHttpStatus:
      retryable = failure.status == 408 || failure.status == 409 || failure.status == 429 || failure.status >= 500;
      hinted = failure.retry_after_ms >= 0;
      break;
    case ErrorCode::kProviderError: retryable = true; break;
    default: break;
  }
  if (!retryable) return -1;
  int64_t delay = 0;
  if (hinted) {
    if (failure.retry_after_ms > policy.max_delay_ms) return -1;
    delay = failure.retry_after_ms;
  } else {
    const int64_t exponential = policy.base_delay_ms << std::min<uint32_t>(retries_so_far, 20);
    const int64_t cap = std::min(exponential, policy.max_delay_ms);
    const int64_t half = cap / 2;  // the delay spreads over [cap/2, cap)
    const double spread = std::clamp(jitter, 0.0, 1.0) * static_cast<double>(cap - half);
    delay = half + static_cast<int64_t>(spread);
  }
  if (remaining_ms >= 0 && delay >= remaining_ms) return -1;
  return delay;
}

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads `count` digits at s[pos], advancing pos; -1 when they are not there.
int Digits(std::string_view s, size_t& pos, size_t count) {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return value;
}

bool Expect(std::string_view s, size_t& pos, std::string_view what) {
  if (s.substr(pos, what.size()) != what) return false;
  pos += what.size();
  return true;
}

int Month(std::string_view s, size_t& pos) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t m = 0; m < kMonths.size(); ++m) {
    if (s.substr(pos, 3) == kMonths[m]) {
      pos += 3;
      return static_cast<int>(m) + 1;
    }
  }
  return -1;
}

// "08:49:37" into seconds of the day.
int64_t TimeOfDay(std::string_view s, size_t& pos) {
  const int h = Digits(s, pos, 2);
  if (h < 0 || h > 23 || !Expect(s, pos, ":")) return -1;
  const int m = Digits(s, pos, 2);
  if (m < 0 || m > 59 || !Expect(s, pos, ":")) return -1;
  const int sec = Digits(s, pos, 2);
  if (sec < 0 || sec > 60) return -1;
  return int64_t{h} * 3600 + int64_t{m} * 60 + sec;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t ToUnix(int64_t year, int month, int day, int64_t seconds_of_day) {
  if (month < 1 || day < 1 || day > 31 || seconds_of_day < 0) return -1;
  return DaysFromCivil(year, month, day) * 86400 + seconds_of_day;
}

}  // namespace

int64_t ParseHttpDate(std::string_view text) {
  const std::string_view s = Trim(text);
  size_t pos = s.find(',');
  if (pos != std::string_view::npos) {
    ++pos;
    if (!Expect(s, pos, " ")) return -1;
    if (pos + 2 < s.size() && s[pos + 2] == ' ') {
      // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      const int day = Digits(s, pos, 2);
      if (day < 0 || !Expect(s, pos, " ")) return -1;
      const int month = Month(s, pos);
      if (month < 0 || !Expect(s, pos, " ")) return -1;
      const int year = Digits(s, pos, 4);
      if (year < 0 || !Expect(s, pos, " ")) return -1;
      const int64_t tod = TimeOfDay(s, pos);
      if (tod < 0 || !Expect(s, pos, " GMT") || pos != s.size()) return -1;
      return ToUnix(year, month, day, tod);
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years: RFC 9110
    // says a year more than 50 years ahead means the past century).
    const int day = Digits(s, pos, 2);
    if (day < 0 || !Expect(s, pos, "-")) return -1;
    const int month = Month(s, pos);
    if (month < 0 || !Expect(s, pos, "-")) return -1;
    const int yy = Digits(s, pos, 2);
    if (yy < 0 || !Expect(s, pos, " ")) return -1;
    const int64_t tod = TimeOfDay(s, pos);
    if (tod < 0 || !Expect(s, pos, " GMT") || pos != s.size()) return -1;
    return ToUnix(yy < 70 ? 2000 + yy : 1900 + yy, month, day, tod);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  pos = 0;
  if (s.size() < 4 || s[3] != ' ') return -1;
  pos = 4;
  const int month = Month(s, pos);
  if (month < 0 || !Expect(s, pos, " ")) return -1;
  if (pos < s.size() && s[pos] == ' ') ++pos;
  size_t digits = pos < s.size() && pos + 1 < s.size() && s[pos + 1] >= '0' && s[pos + 1] <= '9' ? 2 : 1;
  const int day = Digits(s, pos, digits);
  if (day < 0 || !Expect(s, pos, " ")) return -1;
  const int64_t tod = TimeOfDay(s, pos);
  if (tod < 0 || !Expect(s, pos, " ")) return -1;
  const int year = Digits(s, pos, 4);
  if (year < 0 || pos != s.size()) return -1;
  return ToUnix(year, month, day, tod);
}

int64_t ParseRetryAfterMs(std::string_view retry_after_ms, std::string_view retry_after, int64_t now_unix_seconds) {
  retry_after_ms = Trim(retry_after_ms);
  if (!retry_after_ms.empty()) {
    const std::string text(retry_after_ms);
    char* end = nullptr;
    const double ms = std::strtod(text.c_str(), &end);
    if (end != text.c_str() && *end == '\0' && ms >= 0 && ms < 1e15) return static_cast<int64_t>(ms);
  }
  retry_after = Trim(retry_after);
  if (retry_after.empty()) return -1;
  if (AllDigits(retry_after)) {
    if (retry_after.size() > 12) return -1;  // more than 30,000 years: unreadable
    return std::strtoll(std::string(retry_after).c_str(), nullptr, 10) * 1000;
  }
  const int64_t when = ParseHttpDate(retry_after);
  if (when < 0) return -1;
  return when > now_unix_seconds ? (when - now_unix_seconds) * 1000 : 0;
}

}  // namespace llmrelay

#include "transport/transfer.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <random>
#include <utility>

#include "core/json_out.h"

namespace llmrelay {

namespace {

// A non-2xx body is read for its error message; more is never needed.
constexpr size_t kMaxErrorBody = size_t{64} * 1024;
// Bytes waiting for the main thread before the transfer pauses itself.
constexpr size_t kMaxBacklog = size_t{1024} * 1024;
// Raw bytes held before anyone chose how to consume the stream.
constexpr size_t kMaxHeld = size_t{256} * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Retry-After-Ms (a number of ms), then Retry-After (seconds or an HTTP
// date). -1 when absent or unreadable.
int64_t ParseRetryAfter(const std::string& retry_after_ms, const std::string& retry_after) {
  if (!retry_after_ms.empty()) {
    char* end = nullptr;
    const double ms = std::strtod(retry_after_ms.c_str(), &end);
    if (end != retry_after_ms.c_str() && ms >= 0) return static_cast<int64_t>(ms);
  }
  if (!retry_after.empty()) {
    if (std::all_of(retry_after.begin(), retry_after.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::strtoll(retry_after.c_str(), nullptr, 10) * 1000;
    }
    const time_t when = curl_getdate(retry_after.c_str(), nullptr);
    if (when > 0) {
      const int64_t delta = static_cast<int64_t>(when - std::time(nullptr));
      return delta > 0 ? delta * 1000 : 0;
    }
  }
  return -1;
}

bool IsRetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool MultiplexesPriorKnowledge() {
  static const bool multiplexes = curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
  return multiplexes;
}

std::mt19937& Rng() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return rng;
}

}  // namespace

Transfer::Transfer(Engine* engine, std::unique_ptr<StreamConfig> config)
    : engine_(engine),
      config_(std::move(config)),
      pipeline_(CreateAdapter(config_->provider), config_->max_event_bytes, config_->encoder) {
  uv_timer_init(engine_->loop(), &deadline_);
  deadline_.data = this;
  for (const std::string& header : config_->headers) {
    header_list_ = curl_slist_append(header_list_, header.c_str());
  }
  // curl adds "Expect: 100-continue" to larger POSTs, which costs a round
  // trip (or a 1 s wait) before the body goes out.
  header_list_ = curl_slist_append(header_list_, "Expect:");
}

Transfer::~Transfer() {
  DetachEasy();
  curl_slist_free_all(header_list_);
}

void Transfer::Dispose(std::unique_ptr<Transfer> transfer) {
  Transfer* raw = transfer.release();
  SocketSink::Close(std::move(raw->sink_));
  uv_timer_stop(&raw->deadline_);
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->deadline_), [](uv_handle_t* handle) {
    std::unique_ptr<Transfer> owned(static_cast<Transfer*>(handle->data));
  });
}

void Transfer::Begin() {
  start_us_ = NowUs();
  pipeline_.metrics().start_us = start_us_;
  if (!config_->mode.empty()) SetMode(config_->mode);
  StartAttempt();
}

void Transfer::StartAttempt() {
  phase_ = Phase::kRunning;
  attempt_start_us_ = NowUs();
  content_ref_us_ = attempt_start_us_;
  status_ = 0;
  headers_done_ = false;
  is_event_stream_ = false;
  content_type_ok_ = true;
  http_version_ = 0;
  headers_json_.clear();
  content_type_.clear();
  retry_after_.clear();
  retry_after_ms_.clear();
  error_body_.clear();
  fail_code_.clear();
  curl_paused_ = false;
  curl_error_[0] = 0;

  easy_ = curl_easy_init();
  if (easy_ == nullptr) {
    Fail("NETWORK", "curl_easy_init failed (out of memory?)");
    return;
  }
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_URL, config_->url.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, header_list_);
  if (config_->method == "POST") {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, config_->body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(config_->body.size()));
  } else if (config_->method == "GET") {
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, config_->method.c_str());
    if (!config_->body.empty()) {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, config_->body.data());
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(config_->body.size()));
    }
  }
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::OnCurlWrite);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::OnCurlHeader);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, curl_error_);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_SHARE, engine_->share());
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "llm-relay/0.1");
  curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
  // Wait for an existing HTTP/2 connection to multiplex on rather than
  // opening a new one per stream.
  curl_easy_setopt(easy_, CURLOPT_PIPEWAIT, 1L);
  if (config_->connect_ms > 0) curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_->connect_ms));
  const bool https = config_->url.compare(0, 8, "https://") == 0;
  long version = CURL_HTTP_VERSION_1_1;
  if (https) version = CURL_HTTP_VERSION_2TLS;
  else if (config_->http2_prior_knowledge) version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
  curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, version);
  if (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && !MultiplexesPriorKnowledge()) {
    // libcurl 7.x fails every stream ("Error in the HTTP2 framing layer")
    // when a second h2c prior-knowledge transfer joins a connection (the
    // curl CLI's -Z shows the same). Give each stream its own connection
    // there: correct, just not multiplexed. h2 over TLS is unaffected.
    curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
  }
  if (!config_->ca_file.empty()) {
    curl_easy_setopt(easy_, CURLOPT_CAINFO, config_->ca_file.c_str());
  } else if (https && config_->verify_tls) {
    engine_->trust_store().Apply(easy_);  // Node's trust store, for the bundled libcurl
  }
  if (!config_->verify_tls) {
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  ApplyPause();
  const CURLMcode rc = curl_multi_add_handle(engine_->multi(), easy_);
  if (rc != CURLM_OK) {
    curl_easy_cleanup(easy_);
    easy_ = nullptr;
    Fail("NETWORK", std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(rc));
    return;
  }
  ArmDeadline();
}

void Transfer::DetachEasy() {
  if (easy_ == nullptr) return;
  curl_multi_remove_handle(engine_->multi(), easy_);
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
}

// ---- curl callbacks (worker thread, inside curl: never call back into curl) ---

size_t Transfer::OnCurlHeader(char* data, size_t size, size_t nmemb, void* userp) {
  auto* self = static_cast<Transfer*>(userp);
  const size_t len = size * nmemb;
  self->HandleHeaderLine(std::string_view(data, len));
  return len;
}

void Transfer::HandleHeaderLine(std::string_view line) {
  if (line.compare(0, 5, "HTTP/") == 0) {
    // A new status line (an interim 1xx, or the final answer).
    headers_json_.clear();
    content_type_.clear();
    retry_after_.clear();
    retry_after_ms_.clear();
    const size_t sp = line.find(' ');
    status_ = sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    http_version_ = line.compare(0, 6, "HTTP/2") == 0 ? 2 : 1;
    return;
  }
  const std::string_view trimmed = Trim(line);
  if (trimmed.empty()) {
    if (status_ >= 200) HeadersComplete();
    return;
  }
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view name = Trim(trimmed.substr(0, colon));
  const std::string_view value = Trim(trimmed.substr(colon + 1));
  if (IEquals(name, "content-type")) content_type_.assign(value);
  if (IEquals(name, "retry-after")) retry_after_.assign(value);
  if (IEquals(name, "retry-after-ms")) retry_after_ms_.assign(value);
  headers_json_.push_back(headers_json_.empty() ? '{' : ',');
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  AppendJsonString(headers_json_, lower);
  headers_json_.push_back(':');
  AppendJsonString(headers_json_, value);
}

void Transfer::HeadersComplete() {
  headers_done_ = true;
  pipeline_.metrics().first_byte_us = NowUs();
  if (headers_json_.empty()) headers_json_ = "{";
  headers_json_.push_back('}');
  if (status_ < 200 || status_ >= 300) return;
  std::string_view type = content_type_;
  const size_t semi = type.find(';');
  if (semi != std::string_view::npos) type = type.substr(0, semi);
  type = Trim(type);
  is_event_stream_ = IEquals(type, "text/event-stream");
  // An SSE provider that answers with anything but an event stream did not
  // stream (a JSON body, an HTML error page from a proxy): read it as such.
  if (pipeline_.framing() == Framing::kSse && !type.empty() && !is_event_stream_) {
    content_type_ok_ = false;
    return;
  }
  head_out_.append("{\"status\":");
  AppendInt(head_out_, status_);
  head_out_.append(",\"httpVersion\":");
  head_out_.append(http_version_ == 2 ? "\"2\"" : "\"1.1\"");
  head_out_.append(",\"headers\":");
  head_out_.append(headers_json_);
  head_out_.push_back('}');
  MarkDirty();
}

size_t Transfer::OnCurlWrite(char* data, size_t size, size_t nmemb, void* userp) {
  auto* self = static_cast<Transfer*>(userp);
  if (self->pause_wanted_) {
    // The pause takes effect here, from inside the write callback: curl keeps
    // these bytes and stops reading until curl_easy_pause(CURLPAUSE_CONT)
    // (see ApplyPause for why not curl_easy_pause(CURLPAUSE_RECV)).
    self->curl_paused_ = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  return self->HandleBody(data, size * nmemb);
}

size_t Transfer::HandleBody(const char* data, size_t len) {
  if (status_ < 200 || status_ >= 300 || !content_type_ok_) {
    const size_t room = kMaxErrorBody - std::min(kMaxErrorBody, error_body_.size());
    error_body_.append(data, std::min(room, len));
    return len;
  }
  const uint64_t before = pipeline_.metrics().deltas;
  if (!pipeline_.Feed(data, len, NowUs())) {
    fail_code_ = pipeline_.error().code;
    return 0;  // makes curl end the transfer with CURLE_WRITE_ERROR
  }
  if (pipeline_.metrics().deltas != before) {
    content_ref_us_ = pipeline_.metrics().last_content_us;
    // The first content delta switches from the first-byte deadline to the
    // (usually shorter) idle one; later deltas only move content_ref_us_ and
    // the timer re-arms itself lazily when it fires.
    if (before == 0) ArmDeadline();
  }
  if (!pipeline_.output().empty()) MarkDirty();
  if (!pipeline_.mode_set() && pipeline_.held_bytes() > kMaxHeld && !paused_hold_) {
    paused_hold_ = true;
    pause_wanted_ = true;  // the next write pauses curl (OnCurlWrite)
  }
  return len;
}

// ---- commands (worker thread, outside curl callbacks) -------------------------

void Transfer::SetMode(std::string_view mode) {
  if (ended_) return;
  json_mode_ = mode == "json";
  if (!pipeline_.SetMode(mode)) {
    Fail("INVALID_ARGUMENT", "Unknown output format: " + std::string(mode));
    return;
  }
  if (!pipeline_.output().empty()) MarkDirty();
  if (pipeline_.failed()) fail_code_ = pipeline_.error().code;
  if (phase_ == Phase::kAwaitMode) {
    phase_ = Phase::kRunning;
    OnCurlDone(pending_result_);
    return;
  }
  if (pipeline_.failed() && easy_ != nullptr) {
    fail_code_ = pipeline_.error().code;
    const PipelineError err = pipeline_.error();
    Fail(err.code, err.message, 0, err.type);
    return;
  }
  if (paused_hold_) {
    paused_hold_ = false;
    ApplyPause();
  }
}

void Transfer::SetModeDirect(std::string_view mode, int fd, std::string_view preamble, std::string heartbeat,
                             uint64_t heartbeat_ms) {
  if (ended_) return;  // the end (with its tail) goes to JavaScript as usual
  SetMode(mode);
  if (ended_ || json_mode_) return;
  int error = 0;
  sink_ = SocketSink::Open(engine_->loop(), fd, std::move(heartbeat), heartbeat_ms, &Transfer::OnSinkEvent, this,
                           &error);
  if (!sink_) return;  // not a usable socket: the bytes go to JavaScript, which writes them
  direct_ = Direct::kAttached;
  sink_->WriteRaw(preamble);
  direct_text_ = mode == "text";
  MarkDirty();  // bytes held before the mode was chosen go out now
}

void Transfer::DetachSocket() {
  if (!sink_) return;
  // Also when the transfer ended and only its last bytes wait for the socket:
  // nobody will read them.
  SocketSink::Close(std::move(sink_));
  direct_ = Direct::kGone;
  MarkDirty();  // an ended transfer waiting for the socket can publish its end now
}

void Transfer::OnSinkEvent(void* context) {
  auto* self = static_cast<Transfer*>(context);
  Engine* engine = self->engine_;
  if (self->sink_ && self->sink_->drained() && self->paused_socket_) {
    self->paused_socket_ = false;
    self->ApplyPause();
  }
  self->MarkDirty();
  engine->FlushDirty();
}

void Transfer::SetReaderPaused(bool paused) {
  if (ended_ || paused_reader_ == paused) return;
  paused_reader_ = paused;
  ApplyPause();
}

void Transfer::ResumeBacklog() {
  if (ended_ || !paused_backlog_) return;
  paused_backlog_ = false;
  ApplyPause();
}

// A pause is only wanted here; curl pauses at its next write (OnCurlWrite
// returns CURL_WRITEFUNC_PAUSE) and nothing reaches us meanwhile. Not
// curl_easy_pause(CURLPAUSE_RECV) from outside a callback: libcurl 8 (up to
// 8.14 at least) then re-runs the transfer at once whenever its socket is
// still readable (Curl_xfer_is_blocked() only looks at the write callback's
// pause), so the multi asks for TIMERFUNCTION(0) forever, ~330,000 times a
// second, and the transfer did not resume after CURLPAUSE_CONT (issue 9,
// item 13). A pause from the write callback is the one both 7.88 and 8.x
// treat as blocked; CURLPAUSE_CONT resumes it and redelivers the bytes.
void Transfer::ApplyPause() {
  const bool want = paused_reader_ || paused_backlog_ || paused_hold_ || paused_socket_;
  if (want == pause_wanted_) return;
  pause_wanted_ = want;
  if (want) return;
  // Time spent paused is the reader's, not the provider's.
  content_ref_us_ = NowUs();
  if (!pipeline_.content_seen()) attempt_start_us_ = content_ref_us_;
  if (easy_ != nullptr && curl_paused_) {
    curl_paused_ = false;
    // Unpausing may deliver the kept bytes through OnCurlWrite right here;
    // that is fine: we are in a uv callback, not inside another curl callback.
    curl_easy_pause(easy_, CURLPAUSE_CONT);
  }
  ArmDeadline();
}

void Transfer::Abort() {
  if (ended_) {
    // Ended but still flushing its last bytes to a client's socket: stop.
    if (sink_) {
      SocketSink::Close(std::move(sink_));
      if (direct_ == Direct::kAttached) direct_ = Direct::kOpen;
      MarkDirty();
    }
    return;
  }
  Fail("ABORTED", "The stream was aborted");
}

void Transfer::Cancel() {
  SocketSink::Close(std::move(sink_));
  DetachEasy();
  uv_timer_stop(&deadline_);
  phase_ = Phase::kEnded;
  ended_ = true;
}

// ---- deadlines ------------------------------------------------------------------

void Transfer::ArmDeadline() {
  if (ended_) return;
  const uint64_t now = NowUs();
  uint64_t next = UINT64_MAX;
  if (config_->total_ms > 0) next = start_us_ + static_cast<uint64_t>(config_->total_ms) * 1000;
  if (phase_ == Phase::kRetryWait) {
    next = std::min(next, retry_at_us_);
  } else if (phase_ == Phase::kRunning && !pause_wanted_) {
    if (!pipeline_.content_seen()) {
      if (config_->first_byte_ms > 0) {
        next = std::min(next, attempt_start_us_ + static_cast<uint64_t>(config_->first_byte_ms) * 1000);
      }
    } else if (config_->idle_ms > 0) {
      next = std::min(next, content_ref_us_ + static_cast<uint64_t>(config_->idle_ms) * 1000);
    }
  }
  if (next == UINT64_MAX) {
    uv_timer_stop(&deadline_);
    return;
  }
  const uint64_t delay_ms = next > now ? (next - now + 999) / 1000 : 0;
  uv_timer_start(&deadline_, &Transfer::OnUvDeadline, delay_ms, 0);
}

void Transfer::OnUvDeadline(uv_timer_t* handle) {
  auto* self = static_cast<Transfer*>(handle->data);
  Engine* engine = self->engine_;
  self->CheckDeadline();
  engine->FlushDirty();
}

void Transfer::CheckDeadline() {
  if (ended_) return;
  const uint64_t now = NowUs();
  if (config_->total_ms > 0 && now >= start_us_ + static_cast<uint64_t>(config_->total_ms) * 1000) {
    Fail("TIMEOUT_TOTAL", "The stream took longer than timeouts.totalMs (" + std::to_string(config_->total_ms) + " ms)");
    return;
  }
  if (phase_ == Phase::kRetryWait) {
    if (now >= retry_at_us_) {
      StartAttempt();
      engine_->MarkDirty(this);
      return;
    }
  } else if (phase_ == Phase::kRunning && !pause_wanted_) {
    if (!pipeline_.content_seen()) {
      if (config_->first_byte_ms > 0 && now >= attempt_start_us_ + static_cast<uint64_t>(config_->first_byte_ms) * 1000) {
        Fail("TIMEOUT_FIRST_BYTE", "No content from the provider within timeouts.firstByteMs (" +
                                       std::to_string(config_->first_byte_ms) + " ms)");
        return;
      }
    } else if (config_->idle_ms > 0 && now >= content_ref_us_ + static_cast<uint64_t>(config_->idle_ms) * 1000) {
      Fail("TIMEOUT_IDLE", "No content from the provider for timeouts.idleMs (" + std::to_string(config_->idle_ms) +
                               " ms); keep-alive comments and pings do not count");
      return;
    }
  }
  ArmDeadline();
}

// ---- the end ----------------------------------------------------------------------

void Transfer::OnCurlDone(CURLcode result) {
  if (ended_ || phase_ != Phase::kRunning) return;
  if (!pipeline_.mode_set()) {
    // The whole answer arrived before JavaScript chose a consumer (a reader
    // that starts after an await, pipe() called late). Its bytes are held
    // raw; ending now would have to parse them for nobody. Wait for the mode
    // (only timeouts.totalMs runs meanwhile).
    DetachEasy();
    pending_result_ = result;
    phase_ = Phase::kAwaitMode;
    engine_->handoff()->MarkParked(id());
    ArmDeadline();
    return;
  }
  if (!fail_code_.empty() && pipeline_.failed()) {
    const PipelineError err = pipeline_.error();
    Fail(err.code, err.message, status_, err.type);
    return;
  }
  if (result != CURLE_OK) {
    std::string message = curl_error_[0] ? curl_error_ : curl_easy_strerror(result);
    // mbedTLS's messages (the prebuilt binary) end with a newline.
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (result == CURLE_OPERATION_TIMEDOUT && !headers_done_) {
      Fail("TIMEOUT_CONNECT", "Could not connect within timeouts.connectMs (" + std::to_string(config_->connect_ms) +
                                  " ms): " + message, 0, {}, result);
    } else {
      Fail("NETWORK", message, status_, {}, result);
    }
    return;
  }
  if (status_ < 200 || status_ >= 300) {
    Fail("HTTP_STATUS", "The provider answered HTTP " + std::to_string(status_), status_);
    return;
  }
  if (!content_type_ok_) {
    std::string message = "Expected a text/event-stream answer but the provider sent '" + content_type_ + "'";
    if (!error_body_.empty()) message += ": " + error_body_.substr(0, 200);
    Fail("PROTOCOL", message, status_);
    return;
  }
  if (!pipeline_.Finish(NowUs())) {
    const PipelineError err = pipeline_.error();
    Fail(err.code, err.message, status_, err.type);
    return;
  }
  Succeed();
}

bool Transfer::ShouldRetry(std::string_view code, long status, int curl_code, int64_t* delay_ms) const {
  if (attempt_ >= config_->retry_attempts) return false;
  // Nothing is retried once anything reached the reader.
  if (pipeline_.emitted() != 0 || pipeline_.content_seen()) return false;
  bool retryable = false;
  int64_t hinted = -1;
  if (code == "NETWORK") {
    retryable = curl_code == 0 || IsRetryableCurlError(static_cast<CURLcode>(curl_code));
  } else if (code == "HTTP_STATUS") {
    retryable = status == 408 || status == 409 || status == 429 || status >= 500;
    hinted = ParseRetryAfter(retry_after_ms_, retry_after_);
  } else if (code == "PROVIDER_ERROR") {
    retryable = true;  // e.g. Anthropic's overloaded_error right after the 200
  }
  if (!retryable) return false;
  if (hinted >= 0) {
    // The provider asked for a wait longer than we may take: hand the error
    // (with retryAfterMs) to the caller instead of hanging.
    if (hinted > config_->retry_max_ms) return false;
    *delay_ms = hinted;
  } else {
    const int64_t exp = config_->retry_base_ms << std::min<uint32_t>(attempt_, 20);
    const int64_t cap = std::min(exp, config_->retry_max_ms);
    std::uniform_int_distribution<int64_t> jitter(cap / 2, std::max<int64_t>(cap / 2, cap));
    *delay_ms = jitter(Rng());
  }
  if (config_->total_ms > 0 &&
      NowUs() + static_cast<uint64_t>(*delay_ms) * 1000 >= start_us_ + static_cast<uint64_t>(config_->total_ms) * 1000) {
    return false;
  }
  return true;
}

void Transfer::Fail(std::string_view code, std::string message, long status, std::string_view type, int curl_code) {
  if (ended_) return;
  int64_t delay_ms = 0;
  if (phase_ == Phase::kRunning && ShouldRetry(code, status, curl_code, &delay_ms)) {
    DetachEasy();
    ++attempt_;
    pipeline_.metrics().retries = attempt_;
    pipeline_.Restart(CreateAdapter(config_->provider));
    phase_ = Phase::kRetryWait;
    retry_at_us_ = NowUs() + static_cast<uint64_t>(delay_ms) * 1000;
    ArmDeadline();
    return;
  }
  DetachEasy();
  uv_timer_stop(&deadline_);
  phase_ = Phase::kEnded;
  ended_ = true;
  pipeline_.metrics().end_us = NowUs();

  std::string& e = end_out_;
  e.append("{\"ok\":false,\"error\":{\"code\":");
  AppendJsonString(e, code);
  e.append(",\"message\":");
  AppendJsonString(e, message);
  if (!type.empty()) {
    e.append(",\"type\":");
    AppendJsonString(e, type);
  }
  if (status > 0) {
    e.append(",\"status\":");
    AppendInt(e, status);
  }
  if (curl_code != 0) {
    e.append(",\"curlCode\":");
    AppendInt(e, curl_code);
  }
  if (code == "HTTP_STATUS") {
    const int64_t retry_after = ParseRetryAfter(retry_after_ms_, retry_after_);
    if (retry_after >= 0) {
      e.append(",\"retryAfterMs\":");
      AppendInt(e, retry_after);
    }
    e.append(",\"body\":");
    AppendJsonString(e, error_body_);
    e.append(",\"headers\":");
    e.append(headers_json_.empty() ? "{}" : headers_json_);
  }
  e.append("},\"summary\":");
  std::string_view outcome = "error";
  if (code == "ABORTED") outcome = "aborted";
  else if (code.substr(0, 8) == "TIMEOUT_") outcome = "timeout";
  pipeline_.summary().AppendJson(e, pipeline_.metrics(), outcome);
  e.push_back('}');
  SplitTail([this, code, &message] { pipeline_.EncodeError(code, message); });
  MarkDirty();
}

void Transfer::Succeed() {
  DetachEasy();
  uv_timer_stop(&deadline_);
  phase_ = Phase::kEnded;
  ended_ = true;
  pipeline_.metrics().end_us = NowUs();
  ok_end_ = true;
  end_out_.append("{\"ok\":true,\"summary\":");
  pipeline_.summary().AppendJson(end_out_, pipeline_.metrics(), "completed");
  end_out_.push_back('}');
  SplitTail([this] { pipeline_.EncodeDone(); });
  MarkDirty();
}

void Transfer::MarkDirty() { engine_->MarkDirty(this); }

bool Transfer::Publish() {
  if (paused_hold_) ApplyPause();
  if (direct_ != Direct::kNone) return PublishDirect();
  // The main thread is not draining (busy, or a reader that never reads):
  // past kMaxBacklog the handoff marks the outbox and we stop reading from
  // the provider until the main thread has taken it (it then sends
  // kResumeBacklog). Marking under the publish lock matters: marked later, a
  // drain in between would miss the mark and the transfer would stay paused.
  const bool over = engine_->handoff()->Publish(id(), head_out_, pipeline_.output(), end_out_, tail_out_,
                                                json_mode_, ended_ || paused_backlog_ ? 0 : kMaxBacklog);
  if (over) {
    paused_backlog_ = true;
    ApplyPause();
  }
  return ended_;
}

// The direct path: the bytes go to the client's socket, and JavaScript hears
// only the end. Nothing per token reaches the main thread.
bool Transfer::PublishDirect() {
  head_out_.clear();  // JavaScript built the response head; the sink wrote it
  std::string& out = pipeline_.output();
  if (sink_) {
    // One chunk per publish, i.e. per worker-loop callback: every delta that
    // arrived in one read from the provider goes out in one write.
    sink_->WriteChunk(out);
    if (sink_->failed() && !ended_) {
      Fail("ABORTED", std::string("The client closed the connection (") + std::strerror(sink_->error()) + ")");
    }
  }
  out.clear();
  if (ended_ && sink_) {
    if (!tail_written_ && !sink_->failed()) {
      tail_written_ = true;
      // Mirrors lib/server/node.js: a clean end, or an error the format can
      // carry, goes out as the tail plus the last-chunk; text cannot carry
      // an error, so its body is left unterminated for JS to cut short.
      if (ok_end_ || (!direct_text_ && !tail_out_.empty())) {
        sink_->WriteChunk(tail_out_);
        sink_->WriteLastChunk();
        direct_ = Direct::kFinished;
      } else {
        direct_ = Direct::kOpen;
      }
    }
    // The end record waits until the socket took the last bytes: Node must
    // not finish the response (or reuse the connection) before that.
    if (!sink_->failed() && !sink_->drained()) return false;
    if (sink_->failed()) direct_ = Direct::kGone;
    SocketSink::Close(std::move(sink_));  // no write after this point
  } else if (sink_ && sink_->failed()) {
    SocketSink::Close(std::move(sink_));
    direct_ = Direct::kGone;
  }
  tail_out_.clear();
  if (!ended_) {
    if (sink_ && !sink_->drained() && !paused_socket_) {
      // The client reads slower than the provider writes: stop reading from
      // the provider until the socket drains (OnSinkEvent resumes).
      paused_socket_ = true;
      ApplyPause();
    }
    return false;
  }
  if (direct_ == Direct::kAttached) direct_ = Direct::kOpen;
  end_out_.pop_back();  // the closing brace: the direct outcome goes in
  end_out_.append(",\"direct\":\"");
  end_out_.append(direct_ == Direct::kFinished ? "finished" : direct_ == Direct::kGone ? "gone" : "open");
  end_out_.append("\"}");
  std::string empty_data;
  engine_->handoff()->Publish(id(), head_out_, empty_data, end_out_, tail_out_, json_mode_, 0);
  return true;
}

}  // namespace llmrelay

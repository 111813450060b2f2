#include "upstream/http_attempt.h"

#include <sys/socket.h>

namespace llmrelay {

namespace {

// Every socket curl opens is close-on-exec: a child process the app spawns
// (a tool, ffmpeg, a shell) would otherwise inherit the upstream connection
// and keep it open, and billing, after an abort closed our copy.
curl_socket_t OpenSocketCloseOnExec(void* /*clientp*/, curlsocktype /*purpose*/, curl_sockaddr* address) {
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

constexpr long kReceiveBufferBytes = 4096;

bool MultiplexesPriorKnowledge() {
  static const bool multiplexes = curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
  return multiplexes;
}

}  // namespace

HeaderList::HeaderList(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) list_ = curl_slist_append(list_, line.c_str());
  // curl adds "Expect: 100-continue" to larger POSTs, which costs a round
  // trip (or a 1 s wait) before the body goes out.
  list_ = curl_slist_append(list_, "Expect:");
}

std::unique_ptr<HttpAttempt> HttpAttempt::Start(CURLM* multi, CURLSH* share, const HttpRequest& request,
                                                const HeaderList& headers, TrustStore* trust_store, Listener* listener,
                                                void* owner, std::string* error) {
  std::unique_ptr<HttpAttempt> attempt(new HttpAttempt(multi, listener));
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    *error = "curl_easy_init failed (out of memory?)";
    return nullptr;
  }
  attempt->easy_ = easy;
  curl_easy_setopt(easy, CURLOPT_PRIVATE, owner);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  if (request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &HttpAttempt::OnCurlWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, attempt.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpAttempt::OnCurlHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, attempt.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, attempt->error_);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_SHARE, share);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "llm-relay/0.1");
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &OpenSocketCloseOnExec);
  // Ask for an uncompressed answer: a compressing proxy on the way then
  // leaves the stream alone, and one that compresses anyway is decoded
  // (setting this option is what turns curl's decoding on).
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "identity");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  // curl's receive buffer, one per stream in flight: 16 KiB by default, the
  // largest single allocation of a stream. An LLM stream arrives in events
  // of a few hundred bytes; a 4 KiB read still takes a dozen of them, and a
  // burst costs one more recv per 4 KiB, which is noise next to parsing it.
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  // Wait for an existing HTTP/2 connection to multiplex on rather than
  // opening a new one per stream.
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  if (request.connect_ms > 0) curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_ms));
  const bool https = request.url.compare(0, 8, "https://") == 0;
  long version = CURL_HTTP_VERSION_1_1;
  if (https)
    version = CURL_HTTP_VERSION_2TLS;
  else if (request.http2_prior_knowledge)
    version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, version);
  if (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && !MultiplexesPriorKnowledge()) {
    // libcurl 7.x fails every stream ("Error in the HTTP2 framing layer")
    // when a second h2c prior-knowledge transfer joins a connection (the
    // curl CLI's -Z shows the same). Give each stream its own connection
    // there: correct, just not multiplexed. h2 over TLS is unaffected.
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  }
  if (!request.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, request.ca_file.c_str());
  } else if (https && request.verify_tls && trust_store != nullptr) {
    trust_store->Apply(easy);  // Node's trust store, for the bundled libcurl
  }
  if (!request.verify_tls) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLMcode rc = curl_multi_add_handle(multi, easy);
  if (rc != CURLM_OK) {
    *error = std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(rc);
    return nullptr;
  }
  attempt->added_ = true;
  return attempt;
}

HttpAttempt::~HttpAttempt() {
  if (easy_ == nullptr) return;
  if (added_) curl_multi_remove_handle(multi_, easy_);
  curl_easy_cleanup(easy_);
}

void HttpAttempt::SetPaused(bool paused) {
  pause_wanted_ = paused;
  if (paused || easy_ == nullptr || !curl_paused_) return;
  curl_paused_ = false;
  curl_easy_pause(easy_, CURLPAUSE_CONT);
}

CURL* HttpAttempt::Release() {
  CURL* easy = easy_;
  easy_ = nullptr;
  return easy;
}

size_t HttpAttempt::OnCurlWrite(char* data, size_t size, size_t nmemb, void* userp) {
  auto* self = static_cast<HttpAttempt*>(userp);
  if (self->pause_wanted_) {
    // The pause takes effect here (see SetPaused): curl keeps these bytes and
    // stops reading until CURLPAUSE_CONT, which delivers them again.
    self->curl_paused_ = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  return self->listener_->OnBody(data, size * nmemb);
}

size_t HttpAttempt::OnCurlHeader(char* data, size_t size, size_t nmemb, void* userp) {
  const size_t len = size * nmemb;
  auto* self = static_cast<HttpAttempt*>(userp);
  // curl documents one complete header line per call, but libcurl 7.x holds
  // the header lines that arrive while the transfer is paused and replays
  // them on resume as one chunk of several lines: the listener gets them
  // one by one all the same.
  std::string_view rest(data, len);
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const size_t line_len = newline == std::string_view::npos ? rest.size() : newline + 1;
    self->listener_->OnHeaderLine(rest.substr(0, line_len));
    rest.remove_prefix(line_len);
  }
  return len;
}

Failure CurlFailure(int code, std::string_view curl_text, const ResponseHead& head, int64_t connect_ms) {
  Failure failure;
  failure.curl_code = code;
  failure.status = head.status;
  std::string text(curl_text.empty() ? curl_easy_strerror(static_cast<CURLcode>(code)) : curl_text);
  // mbedTLS's messages (the prebuilt binary) end with a newline.
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (code == CURLE_BAD_CONTENT_ENCODING) {
    failure.code = ErrorCode::kProtocol;
    failure.message = "The provider's answer is compressed (Content-Encoding: " + head.content_encoding +
                      ") in a way this build of libcurl cannot decode: " + text;
  } else if (code == CURLE_OPERATION_TIMEDOUT && !head.complete) {
    failure.code = ErrorCode::kTimeoutConnect;
    failure.status = 0;
    failure.message = "Could not connect within timeouts.connectMs (" + std::to_string(connect_ms) + " ms): " + text;
  } else {
    failure.code = ErrorCode::kNetwork;
    failure.message = text;
  }
  return failure;
}

bool IsTransientCurlError(int code) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

}  // namespace llmrelay

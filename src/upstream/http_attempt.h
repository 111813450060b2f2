// One HTTP attempt at the provider: a curl easy handle built from the
// stream's request, in the engine's multi handle. The response head and
// body go to a Listener; everything else about the stream (retries,
// deadlines, parsing, output) belongs to the Transfer above.
#ifndef LLMRELAY_UPSTREAM_HTTP_ATTEMPT_H_
#define LLMRELAY_UPSTREAM_HTTP_ATTEMPT_H_

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/records.h"
#include "upstream/response_head.h"
#include "upstream/trust_store.h"

namespace llmrelay {

// What every attempt of one stream sends, built once.
struct HttpRequest {
  std::string url;
  std::string method;  // "POST" or "GET"
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::string ca_file;               // PEM file of CAs to trust ("" = the system's)
  bool verify_tls = true;
  bool http2_prior_knowledge = false;  // h2c without upgrade
  int64_t connect_ms = 0;              // 0 = curl's default
};

// curl_slist with one owner.
class HeaderList {
 public:
  HeaderList() = default;
  explicit HeaderList(const std::vector<std::string>& lines);
  ~HeaderList() { curl_slist_free_all(list_); }
  HeaderList(HeaderList&& other) noexcept : list_(other.list_) { other.list_ = nullptr; }
  HeaderList& operator=(HeaderList&&) = delete;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

class HttpAttempt {
 public:
  // Runs on the worker thread, inside curl's callbacks: never call back
  // into curl from these.
  class Listener {
   public:
    virtual ~Listener() = default;
    // One header line, CRLF included (ResponseHeadParser reads it).
    virtual void OnHeaderLine(std::string_view line) = 0;
    // Body bytes; return `len` to go on, 0 to stop the transfer (curl then
    // reports CURLE_WRITE_ERROR).
    virtual size_t OnBody(const char* data, size_t len) = 0;
  };

  // Creates the easy handle and adds it to `multi`. `request` and
  // `headers` must outlive the attempt; `owner` is what CURLINFO_PRIVATE
  // returns for it (the engine finds the transfer of a finished handle by
  // it). Null (with `*error` set) on failure.
  // `trust_store` verifies an HTTPS server when the request names no CA
  // file (the bundled libcurl has no bundle of its own).
  static std::unique_ptr<HttpAttempt> Start(CURLM* multi, CURLSH* share, const HttpRequest& request,
                                            const HeaderList& headers, TrustStore* trust_store, Listener* listener,
                                            void* owner, std::string* error);
  // Removes the handle from the multi handle and frees it: an unfinished
  // HTTP/1.1 response closes its connection.
  ~HttpAttempt();
  HttpAttempt(const HttpAttempt&) = delete;
  HttpAttempt& operator=(const HttpAttempt&) = delete;

  // Pauses or resumes receiving. A pause takes effect at curl's next write
  // (the write callback answers CURL_WRITEFUNC_PAUSE and curl keeps those
  // bytes); resuming may deliver them to the listener before it returns:
  // call it outside curl callbacks.
  //
  // Not curl_easy_pause(CURLPAUSE_RECV) from outside a callback: libcurl 8
  // (up to 8.14 at least) then re-runs the transfer at once whenever its
  // socket is still readable (Curl_xfer_is_blocked() only looks at the write
  // callback's pause), so the multi asks for TIMERFUNCTION(0) forever,
  // ~330,000 times a second, and the transfer does not resume after
  // CURLPAUSE_CONT. A pause from the write callback is the one both 7.88
  // and 8.x treat as blocked.
  void SetPaused(bool paused);
  // curl's own message for the last error ("" if none).
  const char* error_text() const { return error_[0] != '\0' ? error_ : ""; }
  // Gives up the easy handle, still in the multi handle and still reading:
  // the caller (Engine::Linger) owns it from now on and must repoint every
  // callback and pointer curl holds into this attempt before it goes away.
  CURL* Release();
  CURL* easy() const { return easy_; }

 private:
  HttpAttempt(CURLM* multi, Listener* listener) : multi_(multi), listener_(listener) {}
  static size_t OnCurlWrite(char* data, size_t size, size_t nmemb, void* userp);
  static size_t OnCurlHeader(char* data, size_t size, size_t nmemb, void* userp);

  CURLM* multi_;
  Listener* listener_;
  CURL* easy_ = nullptr;
  bool added_ = false;
  bool pause_wanted_ = false;  // the next write pauses curl
  bool curl_paused_ = false;   // the write callback paused curl: CURLPAUSE_CONT resumes
  char error_[CURL_ERROR_SIZE] = {0};
};

// The Failure an attempt that curl ended with `code` becomes: PROTOCOL for
// a compression curl cannot decode (naming it), TIMEOUT_CONNECT for a
// connect timeout before any header, NETWORK otherwise, with curl's text.
Failure CurlFailure(int code, std::string_view curl_text, const ResponseHead& head, int64_t connect_ms);

// Connection-level failures worth another attempt (refused, reset, TLS
// handshake cut, HTTP/2 stream errors): the request may not have reached
// the provider, or the answer broke before anything was delivered.
bool IsTransientCurlError(int code);

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_HTTP_ATTEMPT_H_

// The certificates the bundled libcurl verifies servers with. The prebuilt
// binary's static libcurl (mbedTLS) has no CA bundle or path compiled in:
// JavaScript hands it Node's trust store once (lib/trust-store.js), and the
// engine parses it once, the first time an HTTPS transfer needs it. Each
// connection then gets the parsed chain through CURLOPT_SSL_CTX_FUNCTION
// instead of a CURLOPT_CAINFO_BLOB, which mbedTLS would re-parse for every
// new connection (~150 certificates, a few ms each time).
//
// Built against the system libcurl (GnuTLS), kNeeded is false and Apply does
// nothing: that libcurl uses the system's CA bundle as before.
#ifndef LLMRELAY_UPSTREAM_TRUST_STORE_H_
#define LLMRELAY_UPSTREAM_TRUST_STORE_H_

#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

namespace llmrelay {

// Runs on the worker thread, every method (one per engine).
class TrustStore {
 public:
#if defined(LLMRELAY_BUNDLED_CURL)
  static constexpr bool kNeeded = true;
#else
  static constexpr bool kNeeded = false;
#endif

  TrustStore();
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // PEM certificates, concatenated. Parsed later, on first use.
  void SetPem(std::string pem);
  // Makes `easy` verify its server against the trust store (an HTTPS
  // transfer with neither tls.ca nor rejectUnauthorized: false).
  void Apply(CURL* easy);

 private:
  struct Chain;
  static CURLcode OnCurlSslCtx(CURL* easy, void* ssl_ctx, void* userp);

  std::string pem_;
  std::unique_ptr<Chain> chain_;  // parsed from pem_, once
  // Chains replaced by SetPem: a connection still in its handshake may point
  // at one, so they live as long as the engine.
  std::vector<std::unique_ptr<Chain>> retired_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_TRUST_STORE_H_

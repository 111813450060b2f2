#include "upstream/trust_store.h"

#include <utility>

#if defined(LLMRELAY_BUNDLED_CURL)
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#endif

namespace llmrelay {

#if defined(LLMRELAY_BUNDLED_CURL)

struct TrustStore::Chain {
  Chain() { mbedtls_x509_crt_init(&crt); }
  ~Chain() { mbedtls_x509_crt_free(&crt); }
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;
  mbedtls_x509_crt crt;
  bool usable = false;
};

#else

struct TrustStore::Chain {};

#endif

TrustStore::TrustStore() = default;
TrustStore::~TrustStore() = default;

void TrustStore::SetPem(std::string pem) {
  pem_ = std::move(pem);
  // Parsed again on next use (a new trust store: lib/ evaluated once more).
  if (chain_) retired_.push_back(std::move(chain_));
}

#if defined(LLMRELAY_BUNDLED_CURL)

void TrustStore::Apply(CURL* easy) {
  if (pem_.empty()) return;
  if (!chain_) {
    chain_ = std::make_unique<Chain>();
    // mbedtls_x509_crt_parse wants the terminating NUL counted for PEM. A
    // certificate mbedTLS cannot read is skipped (the result counts them);
    // the others stay usable.
    const int rc =
        mbedtls_x509_crt_parse(&chain_->crt, reinterpret_cast<const unsigned char*>(pem_.c_str()), pem_.size() + 1);
    chain_->usable = rc >= 0 && chain_->crt.version != 0;
  }
  if (!chain_->usable) return;  // curl then has no CA: verification fails, naming the certificate
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &TrustStore::OnCurlSslCtx);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, this);
}

// Runs on the worker thread, inside curl, once per new TLS connection, after
// curl configured it: the parsed chain replaces curl's (empty) one.
CURLcode TrustStore::OnCurlSslCtx(CURL* /*easy*/, void* ssl_ctx, void* userp) {
  auto* self = static_cast<TrustStore*>(userp);
  if (self->chain_ && self->chain_->usable) {
    mbedtls_ssl_conf_ca_chain(static_cast<mbedtls_ssl_config*>(ssl_ctx), &self->chain_->crt, nullptr);
  }
  return CURLE_OK;
}

#else

void TrustStore::Apply(CURL* /*easy*/) {}

CURLcode TrustStore::OnCurlSslCtx(CURL* /*easy*/, void* /*ssl_ctx*/, void* /*userp*/) { return CURLE_OK; }

#endif

}  // namespace llmrelay

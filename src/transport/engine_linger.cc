// Lingering handles (Engine::Linger): a stream that completed at the
// provider's end marker while its body is still open leaves its easy handle
// here, so curl can read (and discard) the rest and the connection can
// return to the pool; after kLingerMs the handle is removed. Runs on the
// worker thread.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "transport/engine.h"

namespace llmrelay {

namespace {

// How long a stream that completed at its end marker may keep reading the
// rest of an open body so its connection can be reused.
constexpr uint64_t kLingerMs = 1000;

size_t DiscardBytes(char* /*data*/, size_t size, size_t nmemb, void* /*userp*/) { return size * nmemb; }

}  // namespace

// Runs on the worker thread, outside curl callbacks.
void Engine::Linger(CURL* easy, std::unique_ptr<HeaderList> headers, const std::string& body) {
  Lingering entry;
  entry.easy = easy;
  entry.headers = std::move(headers);
  entry.body = std::make_unique<std::string>(body);
  entry.until_us = NowUs() + kLingerMs * 1000;
  // Nothing of the Transfer may be reached from here on: it is about to be
  // freed. The request went out already; these keep curl's pointers valid.
  curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &DiscardBytes);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &DiscardBytes);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, nullptr);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, entry.body->data());
  lingering_.push_back(std::move(entry));
  UpdateConnectionLimit();
  // A paused transfer would never read the rest.
  curl_easy_pause(easy, CURLPAUSE_CONT);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&linger_timer_))) {
    uv_timer_start(&linger_timer_, &Engine::OnLingerTimer, kLingerMs, 0);
  }
}

// Runs on the worker thread.
void Engine::OnLingerTimer(uv_timer_t* handle) {
  auto* self = static_cast<Engine*>(handle->data);
  self->ReleaseExpiredLingering();
  if (!self->lingering_.empty()) {
    const uint64_t now = NowUs();
    const uint64_t next = self->lingering_.front().until_us;
    uv_timer_start(handle, &Engine::OnLingerTimer, next > now ? (next - now + 999) / 1000 : 0, 0);
  }
}

void Engine::ReleaseExpiredLingering() {
  const uint64_t now = NowUs();
  // Oldest first: entries are appended in time order.
  while (!lingering_.empty() && lingering_.front().until_us <= now) ReleaseLingering(lingering_.front().easy);
}

void Engine::ReleaseLingering(CURL* easy) {
  auto it = std::find_if(lingering_.begin(), lingering_.end(), [easy](const Lingering& l) { return l.easy == easy; });
  if (it == lingering_.end()) return;
  if (multi_ != nullptr) curl_multi_remove_handle(multi_, easy);
  curl_easy_cleanup(easy);
  lingering_.erase(it);
  UpdateConnectionLimit();
}

}  // namespace llmrelay

// Engine (engine.h): starting and stopping the worker, the commands, the
// connection limit, publishing, and the curl multi handle's sockets and
// timer on the uv loop. Lingering handles are in engine_linger.cc.
#include "transport/engine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "transport/descriptors.h"
#include "transport/transfer.h"

namespace llmrelay {

uint64_t NowUs() { return uv_hrtime() / 1000; }

namespace {

// Idle connections kept for reuse (UpdateConnectionLimit).
constexpr long kMaxIdleConnections = 64;

// One uv_poll_t per socket curl asks us to watch. The poll watches our own
// duplicate of curl's descriptor, never curl's number: libcurl before 8.5.0
// closes a socket that is still connecting (a transfer removed mid-connect,
// an address that refused) without CURL_POLL_REMOVE and reports the removal
// only afterwards (curl issue 12207). Stopping a poll on curl's number then
// runs epoll_ctl() on a descriptor that is closed, or already reused by
// another thread (ThreadSanitizer reports it in test/stress/). The
// duplicate stays ours until the watch is freed.
struct SocketWatch {
  uv_poll_t poll{};
  curl_socket_t fd = CURL_SOCKET_BAD;  // curl's number, for curl_multi_socket_action
  int own_fd = -1;                     // the duplicate the poll watches
  Engine* engine = nullptr;
  ~SocketWatch() {
    if (own_fd >= 0) ::close(own_fd);
  }
};

// True if the two descriptors name the same open socket.
bool SameSocket(int a, int b) {
  struct stat sa {};
  struct stat sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void CloseSocketWatch(SocketWatch* watch) {
  uv_poll_stop(&watch->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll),
           [](uv_handle_t* handle) { std::unique_ptr<SocketWatch> owned(static_cast<SocketWatch*>(handle->data)); });
}

}  // namespace

Engine::Engine(EngineHost* host) : host_(host) {}

Engine::~Engine() { Shutdown(); }

bool Engine::Post(Command command, bool wake) {
  if (stopped_) return false;
  if (!started_ && !StartWorker()) return false;
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    commands_.push_back(std::move(command));
    unsent_ = !wake;
    if (!wake) return true;
  }
  uv_async_send(&command_async_);
  return true;
}

void Engine::Wake() {
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    if (!unsent_) return;
    unsent_ = false;
  }
  uv_async_send(&command_async_);
}

bool Engine::StartWorker() {
  if (uv_loop_init(&loop_) != 0) return false;
  uv_async_init(&loop_, &command_async_, &Engine::OnCommandAsync);
  command_async_.data = this;
  uv_timer_init(&loop_, &curl_timer_);
  curl_timer_.data = this;
  uv_timer_init(&loop_, &linger_timer_);
  linger_timer_.data = this;
  log_pacer_.Init(
      &loop_, [](void* self) { static_cast<Engine*>(self)->FlushDirty(); }, this);

  share_ = curl_share_init();
  // DNS answers and TLS sessions are shared by every request of this engine;
  // connections are pooled by the multi handle itself. All use is on the one
  // worker thread, so the share needs no lock callbacks.
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);

  // curl_multi_init opens a socket pair (to wake a blocked poll) without
  // close-on-exec; a child process would inherit it.
  const std::vector<int> before = OpenDescriptors();
  multi_ = curl_multi_init();
  MarkNewDescriptorsCloseOnExec(before);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Engine::OnCurlSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Engine::OnCurlTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
  UpdateConnectionLimit();

  started_ = true;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void Engine::Shutdown() {
  if (!started_ || stopped_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    Command command;
    command.kind = CommandKind::kShutdown;
    commands_.push_back(std::move(command));
  }
  uv_async_send(&command_async_);
  if (thread_.joinable()) thread_.join();
  uv_loop_close(&loop_);
}

// Runs on the worker thread.
void Engine::Run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Handles are all closed: the share is no longer used by any easy handle.
  curl_share_cleanup(share_);
  share_ = nullptr;
}

// Runs on the worker thread.
void Engine::OnCommandAsync(uv_async_t* handle) {
  auto* self = static_cast<Engine*>(handle->data);
  self->ProcessCommands();
  self->FlushDirty();
}

// Runs on the worker thread.
void Engine::ProcessCommands() {
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    running_commands_.swap(commands_);
    unsent_ = false;  // taken now: a later Wake() has nothing to send
  }
  for (Command& command : running_commands_) {
    if (shutting_down_) break;
    if (command.kind == CommandKind::kShutdown) {
      CloseAll();
      break;
    }
    if (command.kind == CommandKind::kTrustStore) {
      trust_store_.SetPem(std::move(command.pem));
      continue;
    }
    if (command.kind == CommandKind::kStart) {
      const uint32_t id = command.id;
      auto transfer = std::make_unique<Transfer>(this, std::move(command.config));
      Transfer* raw = transfer.get();
      transfers_[id] = std::move(transfer);
      UpdateConnectionLimit();
      raw->Begin();
      continue;
    }
    // A command for a stream that is already over has nothing to do; what
    // it carried (a client socket) is closed with it.
    auto it = transfers_.find(command.id);
    if (it == transfers_.end()) continue;
    Transfer* transfer = it->second.get();
    switch (command.kind) {
      case CommandKind::kConsume: transfer->Consume(std::move(command.consume)); break;
      case CommandKind::kPause: transfer->SetReaderPaused(true); break;
      case CommandKind::kResume: transfer->SetReaderPaused(false); break;
      case CommandKind::kResumeBacklog: transfer->OnDownstreamDrained(); break;
      case CommandKind::kAbort: transfer->Abort(); break;
      case CommandKind::kDetach: transfer->Detach(); break;
      default: break;
    }
  }
  running_commands_.clear();
}

// curl counts every connection of the multi handle against
// CURLMOPT_MAXCONNECTS, the ones in use included, and closes the oldest idle
// one whenever a finished transfer returns its connection to a cache that is
// over the limit. A fixed limit below the number of streams in flight thus
// closes every connection as it is returned: at 1,000 streams, each new
// stream would connect anew (a handshake, a dozen syscalls, the provider's
// accept). So the limit follows the handles in the multi handle: the
// connections they use plus kMaxIdleConnections idle ones. Unbounded (curl's
// default grows the cache with every handle ever added), a burst of 1,000
// streams would leave 1,000 idle sockets behind, and those the provider
// closes linger in CLOSE_WAIT: curl notices a dead idle connection only when
// it looks for one to reuse. Busy servers start a stream the moment another
// ends, so a small idle pool serves nearly every new stream. (An allowance
// that grew with the streams in flight would not shrink back: a returned
// connection closes at most one idle one, so the pool would stay at its
// peak once a wave of streams ended.)
// (The handle returning its connection is still counted, hence the - 1.)
void Engine::UpdateConnectionLimit() {
  if (multi_ == nullptr) return;
  const size_t handles = transfers_.size() + lingering_.size();
  const long in_use = static_cast<long>(handles > 0 ? handles - 1 : 0);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, in_use + kMaxIdleConnections);
}

void Engine::MarkDirty(Transfer* transfer) {
  if (transfer->dirty) return;
  transfer->dirty = true;
  dirty_.push_back(transfer);
}

// Runs on the worker thread, once per loop callback: hands every stream's
// new bytes to the main thread with (at most) one wakeup.
void Engine::FlushDirty() {
  if (shutting_down_) return;
  for (size_t i = 0; i < dirty_.size(); ++i) {  // Publish may append (unpause)
    Transfer* transfer = dirty_[i];
    if (transfer->ended() && transfers_.count(transfer->id()) == 0) continue;
    transfer->dirty = false;
    // Publish is true once the end went out; a transfer writing to the
    // client's socket itself may have ended but still wait for that socket.
    if (transfer->Publish()) Finished(transfer);
  }
  dirty_.clear();
  host_->AfterPublish();
}

void Engine::Finished(Transfer* transfer) {
  auto it = transfers_.find(transfer->id());
  if (it == transfers_.end() || it->second.get() != transfer) return;
  std::unique_ptr<Transfer> owned = std::move(it->second);
  transfers_.erase(it);
  UpdateConnectionLimit();
  transfer->dirty = true;  // never queued again; freed once libuv closes its timer
  Transfer::Dispose(std::move(owned));
}

// Runs on the worker thread.
void Engine::CloseAll() {
  shutting_down_ = true;
  for (auto& entry : transfers_) {
    entry.second->Cancel();
    Transfer::Dispose(std::move(entry.second));
  }
  transfers_.clear();
  dirty_.clear();
  log_pacer_.Close();
  while (!lingering_.empty()) ReleaseLingering(lingering_.front().easy);
  uv_timer_stop(&linger_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&linger_timer_), nullptr);
  // Closes pooled connections; curl reports their sockets through
  // OnCurlSocket(CURL_POLL_REMOVE), which closes the polls.
  CURLM* multi = multi_;
  multi_ = nullptr;
  curl_multi_cleanup(multi);
  uv_timer_stop(&curl_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&curl_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&command_async_), nullptr);
  // Any poll curl did not report is closed here, so uv_run can return.
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (handle->type == UV_POLL && !uv_is_closing(handle)) {
          CloseSocketWatch(static_cast<SocketWatch*>(handle->data));
        }
      },
      nullptr);
}

// Runs on the worker thread, inside curl.
int Engine::OnCurlSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp, void* socketp) {
  auto* self = static_cast<Engine*>(userp);
  auto* watch = static_cast<SocketWatch*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (watch != nullptr) {
      if (self->multi_ != nullptr) curl_multi_assign(self->multi_, fd, nullptr);
      CloseSocketWatch(watch);
    }
    return 0;
  }
  if (watch != nullptr && !SameSocket(watch->own_fd, fd)) {
    // The same number, a new socket: curl closed the old one unannounced
    // (see SocketWatch) and its next attempt got the number back. Our
    // duplicate still holds the old socket open: drop it, watch the new one.
    curl_multi_assign(self->multi_, fd, nullptr);
    CloseSocketWatch(watch);
    watch = nullptr;
  }
  if (watch == nullptr) {
    auto owned = std::make_unique<SocketWatch>();
    owned->fd = fd;
    owned->engine = self;
    owned->own_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (owned->own_fd < 0 || uv_poll_init_socket(&self->loop_, &owned->poll, owned->own_fd) != 0) return -1;
    owned->poll.data = owned.get();
    watch = owned.release();  // owned by the uv handle from here: freed in CloseSocketWatch
    curl_multi_assign(self->multi_, fd, watch);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(&watch->poll, events, &Engine::OnUvPoll);
  return 0;
}

// Runs on the worker thread, inside curl: only (re)arms the uv timer; the
// timer callback calls back into curl on a later loop turn.
int Engine::OnCurlTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* self = static_cast<Engine*>(userp);
  if (timeout_ms < 0) {
    uv_timer_stop(&self->curl_timer_);
  } else {
    uv_timer_start(&self->curl_timer_, &Engine::OnUvTimer, static_cast<uint64_t>(timeout_ms), 0);
  }
  return 0;
}

// Runs on the worker thread.
void Engine::OnUvPoll(uv_poll_t* handle, int status, int events) {
  auto* watch = static_cast<SocketWatch*>(handle->data);
  Engine* self = watch->engine;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  self->SocketAction(watch->fd, flags);
}

// Runs on the worker thread.
void Engine::OnUvTimer(uv_timer_t* handle) {
  auto* self = static_cast<Engine*>(handle->data);
  self->SocketAction(CURL_SOCKET_TIMEOUT, 0);
}

void Engine::SocketAction(curl_socket_t fd, int events) {
  if (multi_ == nullptr) return;
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  CheckMultiInfo();
  FlushDirty();
}

void Engine::CheckMultiInfo() {
  int pending = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &pending)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
    const CURLcode result = message->data.result;
    if (transfer != nullptr) {
      transfer->OnCurlDone(result);
      MarkDirty(transfer);
    } else {
      // A lingering handle (Linger) whose body ended: its connection is back
      // in the pool.
      ReleaseLingering(message->easy_handle);
    }
  }
}

}  // namespace llmrelay

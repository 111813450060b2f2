// A file descriptor with one owner: closed when the owner goes away, moved
// (never copied) between owners. A descriptor crosses from the main thread to
// the worker as a UniqueFd, so whichever path drops it (a command for a
// stream that already ended, a shutdown with commands still queued, a sink
// that could not start) closes it.
#ifndef LLMRELAY_BASE_UNIQUE_FD_H_
#define LLMRELAY_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace llmrelay {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_UNIQUE_FD_H_

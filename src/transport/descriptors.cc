#include "transport/descriptors.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdlib>

namespace llmrelay {

std::vector<int> OpenDescriptors() {
  std::vector<int> fds;
#ifdef __linux__
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd != own) fds.push_back(fd);
    }
    ::closedir(dir);
  }
  std::sort(fds.begin(), fds.end());
#endif
  return fds;
}

void MarkNewDescriptorsCloseOnExec(const std::vector<int>& before) {
  for (const int fd : OpenDescriptors()) {
    if (std::binary_search(before.begin(), before.end(), fd)) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

}  // namespace llmrelay

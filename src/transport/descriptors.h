// Close-on-exec for descriptors a library opens without it: take this
// process's open descriptors, make the library call, mark whatever is new.
// The engine does this around curl_multi_init, on the main thread as it
// starts its worker; any thread may call these.
#ifndef LLMRELAY_TRANSPORT_DESCRIPTORS_H_
#define LLMRELAY_TRANSPORT_DESCRIPTORS_H_

#include <vector>

namespace llmrelay {

// This process's open descriptors (Linux: /proc/self/fd; elsewhere none, and
// MarkNewDescriptorsCloseOnExec does nothing).
std::vector<int> OpenDescriptors();

// Sets FD_CLOEXEC on every descriptor opened since `before` was taken. Used
// around library calls that open descriptors we cannot ask them to mark (a
// descriptor another thread opened meanwhile only loses inheritance across
// exec, which nothing in a Node process relies on: child stdio is set up by
// dup2 in the child).
void MarkNewDescriptorsCloseOnExec(const std::vector<int>& before);

}  // namespace llmrelay

#endif  // LLMRELAY_TRANSPORT_DESCRIPTORS_H_

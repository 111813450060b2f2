#include "base/redact.h"

#include <algorithm>
#include <cstddef>

namespace llmrelay {

void RedactSecrets(std::string& text, const std::vector<std::string>& secrets) {
  if (text.empty() || secrets.empty()) return;
  // Indexes by length, longest first: "Bearer sk-…" before "sk-…". The lists
  // are a handful of strings and this runs once per failed stream.
  std::vector<size_t> order(secrets.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&secrets](size_t a, size_t b) { return secrets[a].size() > secrets[b].size(); });
  for (const size_t i : order) {
    const std::string& secret = secrets[i];
    if (secret.empty()) continue;
    size_t at = text.find(secret);
    if (at == std::string::npos) continue;
    std::string out;
    out.reserve(text.size());
    size_t from = 0;
    while (at != std::string::npos) {
      out.append(text, from, at - from);
      out.append(kRedacted);
      from = at + secret.size();
      at = text.find(secret, from);
    }
    out.append(text, from, std::string::npos);
    text.swap(out);
  }
}

}  // namespace llmrelay

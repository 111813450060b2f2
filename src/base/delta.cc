#include "base/delta.h"

namespace llmrelay {

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool-calls";
    case FinishReason::kContentFilter: return "content-filter";
    case FinishReason::kError: return "error";
    case FinishReason::kOther: return "other";
  }
  return "other";
}

}  // namespace llmrelay

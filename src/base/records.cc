#include "base/records.h"

#include "base/json_writer.h"

namespace llmrelay {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone: return "";
    case ErrorCode::kHttpStatus: return "HTTP_STATUS";
    case ErrorCode::kNetwork: return "NETWORK";
    case ErrorCode::kTimeoutConnect: return "TIMEOUT_CONNECT";
    case ErrorCode::kTimeoutFirstByte: return "TIMEOUT_FIRST_BYTE";
    case ErrorCode::kTimeoutIdle: return "TIMEOUT_IDLE";
    case ErrorCode::kTimeoutTotal: return "TIMEOUT_TOTAL";
    case ErrorCode::kAborted: return "ABORTED";
    case ErrorCode::kProviderError: return "PROVIDER_ERROR";
    case ErrorCode::kProtocol: return "PROTOCOL";
    case ErrorCode::kTruncated: return "TRUNCATED";
    case ErrorCode::kLimit: return "LIMIT";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
  }
  return "";
}

bool IsTimeout(ErrorCode code) {
  return code == ErrorCode::kTimeoutConnect || code == ErrorCode::kTimeoutFirstByte ||
         code == ErrorCode::kTimeoutIdle || code == ErrorCode::kTimeoutTotal;
}

std::string_view CommandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kConsume: return "CONSUME";
    case CommandKind::kPause: return "PAUSE";
    case CommandKind::kResume: return "RESUME";
    case CommandKind::kAbort: return "ABORT";
    case CommandKind::kDetach: return "DETACH";
    case CommandKind::kStart: return "START";
    case CommandKind::kResumeBacklog: return "RESUME_BACKLOG";
    case CommandKind::kShutdown: return "SHUTDOWN";
    case CommandKind::kTrustStore: return "TRUST_STORE";
  }
  return "";
}

std::string_view OutcomeName(bool ok, ErrorCode code) {
  if (ok) return "completed";
  if (code == ErrorCode::kAborted) return "aborted";
  if (IsTimeout(code)) return "timeout";
  return "error";
}

void AppendEndRecordJson(std::string& out, const EndRecord& end) {
  out.append(end.ok ? "{\"ok\":true" : "{\"ok\":false,\"error\":{\"code\":");
  if (!end.ok) {
    const Failure& f = end.failure;
    AppendJsonString(out, ErrorCodeName(f.code));
    out.append(",\"message\":");
    AppendJsonString(out, f.message);
    if (!f.type.empty()) {
      out.append(",\"type\":");
      AppendJsonString(out, f.type);
    }
    if (f.status > 0) {
      out.append(",\"status\":");
      AppendInt(out, f.status);
    }
    if (f.curl_code != 0) {
      out.append(",\"curlCode\":");
      AppendInt(out, f.curl_code);
    }
    if (f.retry_after_ms >= 0) {
      out.append(",\"retryAfterMs\":");
      AppendInt(out, f.retry_after_ms);
    }
    if (f.code == ErrorCode::kHttpStatus) {
      out.append(",\"body\":");
      AppendJsonString(out, f.body);
      out.append(",\"headers\":");
      out.append(f.headers_json.empty() ? "{}" : f.headers_json);
    }
    out.push_back('}');
  }
  out.append(",\"summary\":");
  out.append(end.summary_json.empty() ? "null" : end.summary_json);
  if (end.last_seq != 0) {
    out.append(",\"lastSeq\":");
    AppendUint(out, end.last_seq);
  }
  if (end.direct != DirectOutcome::kNone) {
    out.append(",\"direct\":");
    out.append(end.direct == DirectOutcome::kFinished ? "\"finished\""
               : end.direct == DirectOutcome::kGone   ? "\"gone\""
                                                      : "\"open\"");
  }
  out.push_back('}');
}

}  // namespace llmrelay

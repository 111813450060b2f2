// The contract between the native core and JavaScript, in one place: the
// error codes, the command kinds, and the end record every stream finishes
// with. The addon exports the codes and command numbers at load
// (binding/constants.cc) and lib/binding.js reads them from there, so no
// number or code string is kept equal by convention on two sides.
#ifndef LLMRELAY_BASE_RECORDS_H_
#define LLMRELAY_BASE_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace llmrelay {

// RelayError codes the native side produces (lib/errors.js documents them).
enum class ErrorCode : uint8_t {
  kNone,
  kHttpStatus,
  kNetwork,
  kTimeoutConnect,
  kTimeoutFirstByte,
  kTimeoutIdle,
  kTimeoutTotal,
  kAborted,
  kProviderError,
  kProtocol,
  kTruncated,
  kLimit,
  kInvalidArgument,
};

inline constexpr ErrorCode kErrorCodes[] = {
    ErrorCode::kHttpStatus,  ErrorCode::kNetwork,      ErrorCode::kTimeoutConnect, ErrorCode::kTimeoutFirstByte,
    ErrorCode::kTimeoutIdle, ErrorCode::kTimeoutTotal, ErrorCode::kAborted,        ErrorCode::kProviderError,
    ErrorCode::kProtocol,    ErrorCode::kTruncated,    ErrorCode::kLimit,          ErrorCode::kInvalidArgument,
};

// "HTTP_STATUS", "TIMEOUT_IDLE", ...; "" for kNone.
std::string_view ErrorCodeName(ErrorCode code);
bool IsTimeout(ErrorCode code);

// What JavaScript may ask of a stream (lib/binding.js sends these numbers,
// which it reads from the addon's constants), plus the engine's own.
enum class CommandKind : uint8_t {
  kConsume = 1,  // choose the consumer: object mode, discard, or a relay format (+ sinks)
  kPause = 2,    // the reader is full: stop reading from the provider
  kResume = 3,   // the reader wants more
  kAbort = 4,
  kDetach = 5,  // the relayed client left: never touch its socket again
  // Engine-internal, never sent by JavaScript:
  kStart = 100,
  kResumeBacklog = 101,  // the main thread drained a backlog the transfer paused for
  kShutdown = 102,
  kTrustStore = 103,  // the certificates the bundled libcurl trusts (upstream/trust_store.h)
};

inline constexpr CommandKind kJsCommands[] = {CommandKind::kConsume, CommandKind::kPause, CommandKind::kResume,
                                              CommandKind::kAbort, CommandKind::kDetach};

// "CONSUME", "PAUSE", ... for the exported constants.
std::string_view CommandKindName(CommandKind kind);

// Why a stream failed, as the RelayError JavaScript builds will say it.
struct Failure {
  ErrorCode code = ErrorCode::kNone;
  std::string message;
  std::string type;   // the provider's error type, when it gave one
  long status = 0;    // the HTTP status that explains the failure, if any
  int curl_code = 0;  // curl's error code behind a NETWORK or TIMEOUT_CONNECT
  int64_t retry_after_ms = -1;
  std::string body;          // HTTP_STATUS: the provider's error body (capped)
  std::string headers_json;  // HTTP_STATUS: the response headers as a JSON object
};

// What became of a client's socket that the worker wrote to itself:
// "finished" (the body's end is on the wire: Node ends the response without
// writing), "open" (nothing more was written: JavaScript ends or cuts it),
// "gone" (a write failed or the client left).
enum class DirectOutcome : uint8_t { kNone, kFinished, kOpen, kGone };

// The last record of every stream.
struct EndRecord {
  bool ok = true;
  Failure failure;           // when !ok
  std::string summary_json;  // Summary::AppendJson
  DirectOutcome direct = DirectOutcome::kNone;
  uint64_t last_seq = 0;  // resumable relays: the last delta's sequence number (0: none)
};

// "completed", "aborted", "timeout" or "error" (metrics.outcome).
std::string_view OutcomeName(bool ok, ErrorCode code);

// {"ok":true,"summary":{...}} or {"ok":false,"error":{...},"summary":{...}},
// plus "direct" when a socket was written to. The one writer of end records.
void AppendEndRecordJson(std::string& out, const EndRecord& end);

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_RECORDS_H_

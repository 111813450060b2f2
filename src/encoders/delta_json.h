// The Delta JSON (the README's Delta table), shared by the "json", "sse" and "ndjson"
// formats. Private to src/encoders/.
#ifndef LLMRELAY_ENCODERS_DELTA_JSON_H_
#define LLMRELAY_ENCODERS_DELTA_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/delta.h"
#include "encoders/encoder.h"

namespace llmrelay {

// {"type":"text","text":"…"} or {"type":"reasoning","text":"…"}; `type` is
// a trusted literal.
void AppendTextDeltaJson(std::string& out, std::string_view type, std::string_view text);

// {"type":"tool-call","index":0,"id":"…","name":"…","argumentsDelta":"…"};
// the id and name keys are left out when empty.
void AppendToolCallDeltaJson(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                             std::string_view arguments_delta);

// {"type":"usage","inputTokens":N,"outputTokens":N,"totalTokens":N,"raw":{…}};
// an unknown input/output count is null, an unknown total leaves the key out,
// and raw_json is copied verbatim (adapters hand over compact JSON).
void AppendUsageDeltaJson(std::string& out, const UsageInfo& usage);

// {"type":"finish","reason":"stop","raw":"end_turn"}; raw left out when empty.
void AppendFinishDeltaJson(std::string& out, FinishReason reason, std::string_view raw);

// {"type":"event","event":"…","data":"…","id":"…"}; id left out unless has_id.
void AppendEventDeltaJson(std::string& out, std::string_view event, std::string_view data, std::string_view id,
                          bool has_id);

// {"type":"data","name":"…","data":<data_json>}; data_json is copied
// verbatim (the caller hands over compact JSON).
void AppendDataDeltaJson(std::string& out, std::string_view name, std::string_view data_json);

// The members of an in-band error, without braces:
// "code":"…","message":"…" then "status":N and "retryAfterMs":N when known.
void AppendErrorFieldsJson(std::string& out, const ErrorInfo& error);

}  // namespace llmrelay

#endif  // LLMRELAY_ENCODERS_DELTA_JSON_H_

#include "encoders/delta_json.h"

#include "base/json_writer.h"

namespace llmrelay {

namespace {

void AppendCountOrNull(std::string& out, int64_t count) {
  if (count < 0) {
    out.append("null");
  } else {
    AppendInt(out, count);
  }
}

}  // namespace

void AppendTextDeltaJson(std::string& out, std::string_view type, std::string_view text) {
  out.append(R"({"type":")");
  out.append(type);
  out.append(R"(","text":)");
  AppendJsonString(out, text);
  out.push_back('}');
}

void AppendToolCallDeltaJson(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                             std::string_view arguments_delta) {
  out.append(R"({"type":"tool-call","index":)");
  AppendInt(out, index);
  if (!id.empty()) {
    out.append(R"(,"id":)");
    AppendJsonString(out, id);
  }
  if (!name.empty()) {
    out.append(R"(,"name":)");
    AppendJsonString(out, name);
  }
  out.append(R"(,"argumentsDelta":)");
  AppendJsonString(out, arguments_delta);
  out.push_back('}');
}

void AppendUsageDeltaJson(std::string& out, const UsageInfo& usage) {
  out.append(R"({"type":"usage","inputTokens":)");
  AppendCountOrNull(out, usage.input_tokens);
  out.append(R"(,"outputTokens":)");
  AppendCountOrNull(out, usage.output_tokens);
  if (usage.total_tokens >= 0) {
    out.append(R"(,"totalTokens":)");
    AppendInt(out, usage.total_tokens);
  }
  out.append(R"(,"raw":)");
  // An adapter that forgot to fill raw_json must not make the whole line
  // unparseable downstream.
  out.append(usage.raw_json.empty() ? std::string_view("{}") : usage.raw_json);
  out.push_back('}');
}

void AppendFinishDeltaJson(std::string& out, FinishReason reason, std::string_view raw) {
  out.append(R"({"type":"finish","reason":")");
  out.append(FinishReasonName(reason));
  out.push_back('"');
  if (!raw.empty()) {
    out.append(R"(,"raw":)");
    AppendJsonString(out, raw);
  }
  out.push_back('}');
}

void AppendEventDeltaJson(std::string& out, std::string_view event, std::string_view data, std::string_view id,
                          bool has_id) {
  out.append(R"({"type":"event","event":)");
  AppendJsonString(out, event);
  out.append(R"(,"data":)");
  AppendJsonString(out, data);
  if (has_id) {
    out.append(R"(,"id":)");
    AppendJsonString(out, id);
  }
  out.push_back('}');
}

void AppendDataDeltaJson(std::string& out, std::string_view name, std::string_view data_json) {
  out.append(R"({"type":"data","name":)");
  AppendJsonString(out, name);
  out.append(R"(,"data":)");
  out.append(data_json.empty() ? std::string_view("null") : data_json);
  out.push_back('}');
}

void AppendErrorFieldsJson(std::string& out, const ErrorInfo& error) {
  out.append(R"("code":)");
  AppendJsonString(out, error.code);
  out.append(R"(,"message":)");
  AppendJsonString(out, error.message);
  if (error.status > 0) {
    out.append(R"(,"status":)");
    AppendInt(out, error.status);
  }
  if (error.retry_after_ms >= 0) {
    out.append(R"(,"retryAfterMs":)");
    AppendInt(out, error.retry_after_ms);
  }
}

}  // namespace llmrelay

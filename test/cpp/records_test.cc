// The end record every stream finishes with (base/records.h), as
// lib/stream.js reads it.
#include "base/records.h"

#include <gtest/gtest.h>

#include <string>

namespace llmrelay {
namespace {

TEST(Records, ACleanEndCarriesTheSummary) {
  EndRecord end;
  end.summary_json = R"({"text":"hi"})";
  std::string out;
  AppendEndRecordJson(out, end);
  EXPECT_EQ(out, R"({"ok":true,"summary":{"text":"hi"}})");
}

TEST(Records, AnHttpErrorCarriesStatusRetryAfterBodyAndHeaders) {
  EndRecord end;
  end.ok = false;
  end.failure.code = ErrorCode::kHttpStatus;
  end.failure.message = "The provider answered HTTP 429";
  end.failure.status = 429;
  end.failure.retry_after_ms = 2000;
  end.failure.body = R"({"error":"slow down"})";
  end.failure.headers_json = R"({"retry-after":"2"})";
  end.summary_json = "{}";
  end.direct = DirectOutcome::kFinished;
  std::string out;
  AppendEndRecordJson(out, end);
  EXPECT_EQ(out,
            R"({"ok":false,"error":{"code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,)"
            R"("retryAfterMs":2000,"body":"{\"error\":\"slow down\"}","headers":{"retry-after":"2"}},"summary":{},)"
            R"("direct":"finished"})");
}

TEST(Records, OtherErrorsCarryNoHttpFields) {
  EndRecord end;
  end.ok = false;
  end.failure.code = ErrorCode::kNetwork;
  end.failure.message = "reset";
  end.failure.curl_code = 56;
  end.failure.body = "never shown";
  end.summary_json = "{}";
  std::string out;
  AppendEndRecordJson(out, end);
  EXPECT_EQ(out, R"({"ok":false,"error":{"code":"NETWORK","message":"reset","curlCode":56},"summary":{}})");
}

TEST(Records, OutcomesAndCodeNames) {
  EXPECT_EQ(OutcomeName(true, ErrorCode::kNone), "completed");
  EXPECT_EQ(OutcomeName(false, ErrorCode::kAborted), "aborted");
  EXPECT_EQ(OutcomeName(false, ErrorCode::kTimeoutIdle), "timeout");
  EXPECT_EQ(OutcomeName(false, ErrorCode::kProtocol), "error");
  for (const ErrorCode code : kErrorCodes) EXPECT_FALSE(ErrorCodeName(code).empty());
  for (const CommandKind kind : kJsCommands) EXPECT_FALSE(CommandKindName(kind).empty());
}

}  // namespace
}  // namespace llmrelay

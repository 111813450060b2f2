// Reading the provider's response head from curl's header lines
// (upstream/response_head.h).
#include "upstream/response_head.h"

#include <gtest/gtest.h>

#include <string>

namespace llmrelay {
namespace {

TEST(ResponseHead, ReadsTheFinalHeadAfterInterimOnes) {
  ResponseHeadParser parser;
  EXPECT_FALSE(parser.OnLine("HTTP/1.1 100 Continue\r\n"));
  EXPECT_FALSE(parser.OnLine("\r\n"));  // an interim head completes nothing
  EXPECT_FALSE(parser.OnLine("HTTP/2 200 \r\n"));
  EXPECT_FALSE(parser.OnLine("Content-Type: text/event-stream; charset=utf-8\r\n"));
  EXPECT_FALSE(parser.OnLine("Retry-After: 3\r\n"));
  EXPECT_FALSE(parser.OnLine("x-request-id:  abc \r\n"));
  EXPECT_TRUE(parser.OnLine("\r\n"));
  const ResponseHead& head = parser.head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.http_version, 2);
  EXPECT_TRUE(head.ok());
  EXPECT_EQ(head.media_type(), "text/event-stream");
  EXPECT_EQ(head.retry_after, "3");
  EXPECT_EQ(head.headers_json,
            R"({"content-type":"text/event-stream; charset=utf-8","retry-after":"3","x-request-id":"abc"})");
  std::string record;
  head.AppendRecordJson(record);
  EXPECT_EQ(record.rfind(R"({"status":200,"httpVersion":"2","headers":{)", 0), 0u);
}

TEST(ResponseHead, KeepsTheFieldsAnErrorNeeds) {
  ResponseHeadParser parser;
  parser.OnLine("HTTP/1.1 429 Too Many Requests\r\n");
  parser.OnLine("retry-after-ms: 1500\r\n");
  parser.OnLine("Content-Encoding: gzip\r\n");
  EXPECT_TRUE(parser.OnLine("\r\n"));
  EXPECT_FALSE(parser.head().ok());
  EXPECT_EQ(parser.head().retry_after_ms, "1500");
  EXPECT_EQ(parser.head().content_encoding, "gzip");
}

TEST(ResponseHead, TrailersAfterTheHeadAreNotPartOfIt) {
  ResponseHeadParser parser;
  parser.OnLine("HTTP/1.1 200 OK\r\n");
  parser.OnLine("\r\n");
  parser.OnLine("x-trailer: 1\r\n");
  EXPECT_EQ(parser.head().headers_json, "{}");
}

TEST(ResponseHead, HeaderNamesCompareWithoutCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "Content-Length"));
}

}  // namespace
}  // namespace llmrelay

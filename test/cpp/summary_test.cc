// The summary a stream cut short reports (issue 9 item 11): what the
// provider said it counted stays in `partial.usage`, through the whole
// pipeline (framing, adapter, summary), without a usage delta.
#include <gtest/gtest.h>

#include <string>

#include "pipeline/pipeline.h"
#include "providers/adapter.h"

namespace llmrelay {
namespace {

std::string AbortedSummary(std::string_view provider, std::string_view body) {
  StreamPipeline pipeline(CreateAdapter(provider), size_t{1} << 20, EncoderOptions{});
  EXPECT_TRUE(pipeline.SetMode("json"));
  EXPECT_TRUE(pipeline.Feed(body.data(), body.size(), 1000));
  EXPECT_EQ(pipeline.output().find("\"usage\""), std::string::npos) << "no usage delta before the finish";
  std::string out;
  pipeline.summary().AppendJson(out, pipeline.metrics(), "aborted");
  return out;
}

TEST(Summary, AnAbortedAnthropicStreamKeepsTheInputTokensOfMessageStart) {
  const std::string summary = AbortedSummary(
      "anthropic",
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":42,\"output_tokens\":1}}}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n");
  EXPECT_NE(summary.find(R"("text":"Hi")"), std::string::npos) << summary;
  EXPECT_NE(
      summary.find(
          R"("usage":{"inputTokens":42,"outputTokens":null,"totalTokens":null,"raw":{"input_tokens":42,"output_tokens":1}})"),
      std::string::npos)
      << summary;
}

TEST(Summary, AnAbortedGeminiStreamKeepsTheLastUsageMetadata) {
  const std::string summary =
      AbortedSummary("gemini",
                     "data: "
                     "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"usageMetadata\":{"
                     "\"promptTokenCount\":7,\"candidatesTokenCount\":1,\"totalTokenCount\":8}}\r\n\r\n"
                     "data: "
                     "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}],\"usageMetadata\":{"
                     "\"promptTokenCount\":7,\"candidatesTokenCount\":2,\"totalTokenCount\":9}}\r\n\r\n");
  EXPECT_NE(summary.find(R"("usage":{"inputTokens":7,"outputTokens":2,"totalTokens":9,)"), std::string::npos)
      << summary;
}

TEST(Summary, AStreamWithoutAnyUsageReportHasNullUsage) {
  const std::string summary =
      AbortedSummary("openai", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n");
  EXPECT_NE(summary.find(R"("usage":null)"), std::string::npos) << summary;
}

}  // namespace
}  // namespace llmrelay

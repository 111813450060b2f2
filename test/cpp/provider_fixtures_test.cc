// Replays every recorded stream of test/fixtures/manifest.json through the
// real SSE parser / NDJSON splitter and the provider's adapter, whole, one
// byte at a time and in 20 seeded random chunkings, and compares what comes
// out with the manifest's `expected`. (The pre-stream HTTP error bodies are
// checked for the message the manifest promises.)
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cctype>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "provider_test_support.h"

#ifndef LLMRELAY_FIXTURES_DIR
#define LLMRELAY_FIXTURES_DIR "test/fixtures"
#endif

namespace llmrelay {
namespace {

using testing_support::Replay;
using testing_support::ReplayResult;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One manifest entry, kept as its JSON text so each test parses its own copy.
struct FixtureEntry {
  std::string name;
  std::string json;
};

const rapidjson::Document& Manifest() {
  static rapidjson::Document manifest;
  static const bool parsed = [] {
    const std::string text = ReadFile(std::string(LLMRELAY_FIXTURES_DIR) + "/manifest.json");
    manifest.Parse(text.data(), text.size());
    return !manifest.HasParseError();
  }();
  (void)parsed;
  return manifest;
}

std::vector<std::string> EntryNames(bool streams) {
  std::vector<std::string> names;
  const rapidjson::Document& manifest = Manifest();
  if (!manifest.IsArray()) return names;
  for (const auto& entry : manifest.GetArray()) {
    const bool is_stream = entry["status"].GetInt() == 200;
    if (is_stream == streams) names.emplace_back(entry["name"].GetString());
  }
  return names;
}

const rapidjson::Value& Entry(const std::string& name) {
  for (const auto& entry : Manifest().GetArray()) {
    if (name == entry["name"].GetString()) return entry;
  }
  static const rapidjson::Value kNull;
  return kNull;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::string StringOrEmpty(const rapidjson::Value& value) {
  return value.IsString() ? std::string(value.GetString(), value.GetStringLength()) : "";
}

bool JsonEqual(const std::string& a, const std::string& b) {
  rapidjson::Document da;
  rapidjson::Document db;
  da.Parse(a.data(), a.size());
  db.Parse(b.data(), b.size());
  return !da.HasParseError() && !db.HasParseError() && da == db;
}

int64_t CountOrUnset(const rapidjson::Value& value) { return value.IsInt64() ? value.GetInt64() : -1; }

// Compares one replay with the entry's `expected`, with gtest failures.
void ExpectMatches(const rapidjson::Value& entry, const ReplayResult& got) {
  const rapidjson::Value& expected = entry["expected"];
  const std::string provider = entry["provider"].GetString();
  const auto& sink = got.sink;

  EXPECT_TRUE(sink.violations.empty()) << "first violation: " << (sink.violations.empty() ? "" : sink.violations[0]);
  EXPECT_EQ(sink.text, StringOrEmpty(expected["text"]));
  EXPECT_EQ(sink.reasoning, StringOrEmpty(expected["reasoning"]));

  const auto& calls = expected["toolCalls"].GetArray();
  ASSERT_EQ(sink.tool_calls.size(), calls.Size());
  for (rapidjson::SizeType i = 0; i < calls.Size(); ++i) {
    const auto& want = calls[i];
    const auto& have = sink.tool_calls[i];
    EXPECT_EQ(want["index"].GetUint(), i);
    EXPECT_EQ(have.id, StringOrEmpty(want["id"])) << "tool call " << i;
    EXPECT_EQ(have.name, StringOrEmpty(want["name"])) << "tool call " << i;
    const std::string args = StringOrEmpty(want["arguments"]);
    if (provider == "gemini" || provider == "ollama") {
      // Re-serialized objects: compare by parsed-JSON equality.
      EXPECT_TRUE(JsonEqual(have.arguments, args)) << have.arguments << " vs " << args;
    } else {
      EXPECT_EQ(have.arguments, args) << "tool call " << i;
    }
  }

  if (expected["finishReason"].IsNull()) {
    EXPECT_FALSE(sink.has_finish()) << "finish " << FinishReasonName(sink.finish);
  } else {
    EXPECT_TRUE(sink.has_finish());
    EXPECT_EQ(FinishReasonName(sink.finish), expected["finishReason"].GetString());
    EXPECT_EQ(sink.finish_raw, StringOrEmpty(expected["rawFinishReason"]));
  }

  if (expected["usage"].IsNull()) {
    EXPECT_FALSE(sink.has_usage()) << "usage raw " << sink.usage_raw;
  } else {
    const auto& usage = expected["usage"];
    EXPECT_TRUE(sink.has_usage());
    EXPECT_EQ(sink.input_tokens, CountOrUnset(usage["inputTokens"]));
    EXPECT_EQ(sink.output_tokens, CountOrUnset(usage["outputTokens"]));
    EXPECT_EQ(sink.total_tokens, CountOrUnset(usage["totalTokens"]));
    // raw is the provider's usage object, compact: it must be valid JSON.
    rapidjson::Document raw;
    raw.Parse(sink.usage_raw.data(), sink.usage_raw.size());
    EXPECT_FALSE(raw.HasParseError()) << sink.usage_raw;
    EXPECT_TRUE(raw.IsObject()) << sink.usage_raw;
  }

  // Cut short before the usage delta: the counts seen so far reached the
  // summary as partial usage (issue 9 item 11).
  if (expected.HasMember("summaryUsage")) {
    const auto& partial = expected["summaryUsage"];
    EXPECT_GT(sink.partial_usage_count, 0);
    EXPECT_EQ(sink.partial_input_tokens, CountOrUnset(partial["inputTokens"]));
    EXPECT_EQ(sink.partial_output_tokens, CountOrUnset(partial["outputTokens"]));
  }

  const auto& error = expected["error"];
  if (error.IsNull()) {
    EXPECT_EQ(got.error_code, "") << sink.error_message;
    EXPECT_TRUE(got.complete);
  } else {
    EXPECT_EQ(got.error_code, error["code"].GetString()) << sink.error_message;
    if (error.HasMember("type")) {
      EXPECT_EQ(sink.error_type, error["type"].GetString());
    }
    if (error.HasMember("message")) {
      EXPECT_EQ(sink.error_message, error["message"].GetString());
    }
  }

  if (expected.HasMember("events")) {
    const auto& events = expected["events"].GetArray();
    ASSERT_EQ(sink.events.size(), events.Size());
    for (rapidjson::SizeType i = 0; i < events.Size(); ++i) {
      EXPECT_EQ(sink.events[i].event, events[i]["event"].GetString()) << "event " << i;
      EXPECT_EQ(sink.events[i].data, events[i]["data"].GetString()) << "event " << i;
      EXPECT_EQ(sink.events[i].id, StringOrEmpty(events[i]["id"])) << "event " << i;
      EXPECT_EQ(sink.events[i].has_id, events[i]["id"].IsString()) << "event " << i;
    }
  } else {
    EXPECT_TRUE(sink.events.empty());
  }
}

class ProviderFixtureReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(ProviderFixtureReplay, ProducesTheExpectedDeltasHoweverTheBytesAreSplit) {
  const rapidjson::Value& entry = Entry(GetParam());
  ASSERT_TRUE(entry.IsObject());
  const std::string bytes = ReadFile(std::string(LLMRELAY_FIXTURES_DIR) + "/" + entry["file"].GetString());
  ASSERT_FALSE(bytes.empty());
  const std::string provider = entry["provider"].GetString();

  {
    SCOPED_TRACE("whole");
    ExpectMatches(entry, Replay(provider, bytes, {bytes.size()}));
  }
  {
    SCOPED_TRACE("1-byte reads");
    ExpectMatches(entry, Replay(provider, bytes, std::vector<size_t>(bytes.size(), 1)));
  }
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("random chunking, seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    // Mostly small reads (splitting CRLF pairs, UTF-8 sequences and \u
    // escapes), now and then a large one.
    std::uniform_int_distribution<size_t> small(1, 24);
    std::uniform_int_distribution<size_t> large(25, 700);
    std::uniform_int_distribution<int> pick(0, 4);
    std::vector<size_t> sizes;
    for (size_t total = 0; total < bytes.size();) {
      const size_t n = pick(rng) == 0 ? large(rng) : small(rng);
      sizes.push_back(n);
      total += n;
    }
    ExpectMatches(entry, Replay(provider, bytes, sizes));
  }
}

INSTANTIATE_TEST_SUITE_P(Manifest, ProviderFixtureReplay, ::testing::ValuesIn(EntryNames(true)), TestName);

class ProviderHttpErrorFixture : public ::testing::TestWithParam<std::string> {};

// The mock provider and the JS tests serve these bodies with their status;
// the manifest's message must be the one a client extracts from the body:
// `error.message` (OpenAI, Anthropic, Gemini, OpenRouter, Azure) or the
// `error` string (Ollama).
TEST_P(ProviderHttpErrorFixture, HoldsTheProviderMessageTheManifestPromises) {
  const rapidjson::Value& entry = Entry(GetParam());
  ASSERT_TRUE(entry.IsObject());
  const std::string body = ReadFile(std::string(LLMRELAY_FIXTURES_DIR) + "/" + entry["file"].GetString());
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  ASSERT_FALSE(doc.HasParseError()) << body;
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("error"));
  const rapidjson::Value& error = doc["error"];
  const std::string message = error.IsString() ? error.GetString() : StringOrEmpty(error["message"]);

  const rapidjson::Value& expected = entry["expected"]["error"];
  EXPECT_EQ(std::string(expected["code"].GetString()), "HTTP_STATUS");
  EXPECT_EQ(expected["status"].GetInt(), entry["status"].GetInt());
  EXPECT_NE(entry["status"].GetInt(), 200);
  EXPECT_EQ(message, expected["message"].GetString());
  EXPECT_EQ(std::string(entry["contentType"].GetString()).rfind("application/json", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Manifest, ProviderHttpErrorFixture, ::testing::ValuesIn(EntryNames(false)), TestName);

TEST(ProviderFixtureManifest, CoversEveryProviderWithTextErrorsTruncationAndBadJson) {
  const rapidjson::Document& manifest = Manifest();
  ASSERT_TRUE(manifest.IsArray()) << "manifest.json did not parse";
  for (const char* provider : {"openai", "openai-responses", "anthropic", "gemini", "ollama"}) {
    SCOPED_TRACE(provider);
    bool text = false, provider_error = false, truncated = false, protocol = false, http = false;
    for (const auto& entry : manifest.GetArray()) {
      if (std::string(entry["provider"].GetString()) != provider) continue;
      const auto& expected = entry["expected"];
      if (entry["status"].GetInt() != 200) {
        http = true;
        continue;
      }
      if (expected["error"].IsNull() && expected["text"].GetStringLength() > 0) text = true;
      if (expected["error"].IsObject()) {
        const std::string code = expected["error"]["code"].GetString();
        provider_error = provider_error || code == "PROVIDER_ERROR";
        truncated = truncated || code == "TRUNCATED";
        protocol = protocol || code == "PROTOCOL";
      }
    }
    EXPECT_TRUE(text && provider_error && truncated && protocol && http);
  }
}

}  // namespace
}  // namespace llmrelay

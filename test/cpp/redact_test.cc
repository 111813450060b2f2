// RedactSecrets (issue 9 item 2): what a failed stream reports never holds
// its credentials.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/redact.h"

namespace llmrelay {
namespace {

std::string Redacted(std::string text, const std::vector<std::string>& secrets) {
  RedactSecrets(text, secrets);
  return text;
}

TEST(RedactSecrets, ReplacesEveryOccurrenceOfEverySecret) {
  EXPECT_EQ(Redacted("key sk-live-123 and again sk-live-123, token tok-999", {"sk-live-123", "tok-999"}),
            "key [redacted] and again [redacted], token [redacted]");
}

TEST(RedactSecrets, ReplacesTheLongerSecretFirstWhenOneContainsAnother) {
  // Given shortest first on purpose: the order of the list must not matter.
  EXPECT_EQ(Redacted("Authorization: Bearer sk-live-123", {"sk-live-123", "Bearer sk-live-123"}),
            "Authorization: [redacted]");
}

TEST(RedactSecrets, HandlesSecretsAtTheEdgesAndBackToBack) {
  EXPECT_EQ(Redacted("sk-1sk-1", {"sk-1"}), "[redacted][redacted]");
  EXPECT_EQ(Redacted("sk-1", {"sk-1"}), "[redacted]");
}

TEST(RedactSecrets, LeavesTextWithoutSecretsAndIgnoresEmptySecrets) {
  EXPECT_EQ(Redacted("nothing to see", {"", "absent-secret"}), "nothing to see");
  EXPECT_EQ(Redacted("", {"x"}), "");
  EXPECT_EQ(Redacted("text", {}), "text");
}

TEST(RedactSecrets, WorksOnJsonTextWithTheEscapedFormsItIsGiven) {
  // JavaScript sends a secret's JSON-escaped and percent-encoded forms too.
  EXPECT_EQ(Redacted(R"({"x-echo":"a\/b+c","q":"a%2Fb%2Bc"})", {"a/b+c", R"(a\/b+c)", "a%2Fb%2Bc"}),
            R"({"x-echo":"[redacted]","q":"[redacted]"})");
}

TEST(RedactSecrets, KeepsBinaryAndMultibyteTextAroundASecret) {
  std::string text("caf\xc3\xa9 k3y-secret \0 end", 23);
  EXPECT_EQ(Redacted(text, {"k3y-secret"}), std::string("caf\xc3\xa9 [redacted] \0 end", 23));
}

}  // namespace
}  // namespace llmrelay

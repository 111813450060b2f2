'use strict';

// OpenAI legacy Completions streaming (docs/wire-formats.md §3): the Chat Completions framing, but each
// chunk is a `text_completion` whose text is in choices[].text (no delta, no role chunk).

const { randomAlnum } = require('../random');
const openai = require('./openai');

function* events(ctx) {
  const { scenario } = ctx;
  if (scenario.toolCalls.length > 0 || scenario.reasoning.length > 0) {
    throw new TypeError(
      'openai legacy completions (/v1/completions) stream text only: remove toolCalls and reasoning from the scenario',
    );
  }
  const { includeUsage } = openai.streamOptions(ctx);
  const id = `cmpl-${randomAlnum(29)}`;
  const chunk = (choices, usage) => {
    const object = {
      id,
      object: 'text_completion',
      created: ctx.created,
      choices,
      model: ctx.model,
      system_fingerprint: null,
    };
    if (includeUsage) object.usage = usage === undefined ? null : usage;
    return `data: ${JSON.stringify(object)}\n\n`;
  };
  const choice = (text, finishReason = null) => [{ text, index: 0, logprobs: null, finish_reason: finishReason }];

  for (const token of scenario.tokens) yield { data: chunk(choice(token)), content: true };
  yield { data: chunk(choice('', scenario.finishReason || 'stop')), content: false };
  if (includeUsage) {
    const { inputTokens, outputTokens } = scenario.usage;
    yield {
      data: chunk([], {
        prompt_tokens: inputTokens,
        completion_tokens: outputTokens,
        total_tokens: inputTokens + outputTokens,
      }),
      content: false,
    };
  }
  if (!ctx.omitEndMarker) yield { data: 'data: [DONE]\n\n', content: false };
}

module.exports = {
  ...openai,
  name: 'openai-completions',
  defaultModel: 'gpt-3.5-turbo-instruct',
  events,
};

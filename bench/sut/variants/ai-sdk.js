'use strict';
// Vercel AI SDK: streamText() with @ai-sdk/openai's chat model. Its own
// pipeTextStreamToResponse() writes plain text (see ai-sdk-text.js); this variant
// reads result.textStream and writes the shared SSE format, so the load client
// checks it exactly like every other row and the JSON encoding cost is the same.
const { SseOut, abortOnClose } = require('../../lib/sse-out');
const { OPENAI_BODY, openaiBase, clientCache } = require('../../lib/upstream');

function createAiSdk(ctx) {
  const { streamText } = require('ai');
  const { createOpenAI } = require('@ai-sdk/openai');
  const provider = clientCache((baseURL) => createOpenAI({ baseURL, apiKey: 'x' }));
  return function start(knobs, signal) {
    return streamText({
      model: provider(openaiBase(ctx.mockOrigin, knobs)).chat(OPENAI_BODY.model),
      messages: OPENAI_BODY.messages,
      abortSignal: signal,
      maxRetries: 0,
      onError: () => {}, // errors surface through the stream; the default logs each one
    });
  };
}

module.exports = {
  name: 'ai-sdk',
  label: 'AI SDK streamText',
  packages: ['ai', '@ai-sdk/openai'],
  upstream: 'openai',
  clientMode: 'sse',
  createAiSdk,
  create(ctx) {
    const start = createAiSdk(ctx);
    return {
      async handle(req, res, knobs) {
        const ac = abortOnClose(res);
        const out = new SseOut(res);
        try {
          const result = start(knobs, ac.signal);
          let started = false;
          for await (const text of result.textStream) {
            if (!started) {
              out.head();
              started = true;
            }
            const wait = out.text(text);
            if (wait) await wait;
          }
          if (!started) out.head();
          out.finish(await result.finishReason);
        } catch (err) {
          if (!ac.signal.aborted) out.error(err);
        }
      },
      async consume(knobs, onText, signal) {
        for await (const text of start(knobs, signal).textStream) onText(text);
      },
    };
  },
};

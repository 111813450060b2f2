'use strict';
// The official openai SDK: chat.completions.create({ stream: true }) and for await
// over its chunks (the lighter of its two streaming paths; .stream() also
// accumulates a snapshot), relayed with the shared SSE writer.
const { SseOut, abortOnClose } = require('../../lib/sse-out');
const { OPENAI_BODY, openaiBase, clientCache } = require('../../lib/upstream');

module.exports = {
  name: 'openai-sdk',
  label: 'openai SDK',
  packages: ['openai'],
  upstream: 'openai',
  clientMode: 'sse',
  create(ctx) {
    const OpenAI = require('openai');
    const client = clientCache((baseURL) => new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0, timeout: 600000 }));

    // Returns the SDK's own Stream; iterated directly (no wrapper generator, which
    // would add a promise per chunk to the SDK's bill).
    function open(knobs, signal) {
      return client(openaiBase(ctx.mockOrigin, knobs)).chat.completions.create(
        { ...OPENAI_BODY, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
    }

    return {
      async handle(req, res, knobs) {
        const ac = abortOnClose(res);
        const out = new SseOut(res);
        let finish = null;
        try {
          const stream = await open(knobs, ac.signal);
          out.head();
          for await (const chunk of stream) {
            const choice = chunk.choices[0];
            if (choice === undefined) continue;
            const text = choice.delta && choice.delta.content;
            if (text) {
              const wait = out.text(text);
              if (wait) await wait;
            }
            if (choice.finish_reason) finish = choice.finish_reason;
          }
          out.finish(finish);
        } catch (err) {
          if (!ac.signal.aborted) out.error(err);
        }
      },
      async consume(knobs, onText, signal) {
        for await (const chunk of await open(knobs, signal)) {
          const choice = chunk.choices[0];
          if (choice !== undefined && choice.delta && choice.delta.content) onText(choice.delta.content);
        }
      },
    };
  },
};

'use strict';
// The official @anthropic-ai/sdk: messages.create({ stream: true }) and for await
// over its events (lighter than messages.stream(), which also builds a snapshot).
const { SseOut, abortOnClose } = require('../../lib/sse-out');
const { ANTHROPIC_BODY, anthropicBase, clientCache } = require('../../lib/upstream');

module.exports = {
  name: 'anthropic-sdk',
  label: '@anthropic-ai/sdk',
  packages: ['@anthropic-ai/sdk'],
  upstream: 'anthropic',
  clientMode: 'sse',
  create(ctx) {
    const mod = require('@anthropic-ai/sdk');
    const Anthropic = mod.default || mod.Anthropic || mod;
    const client = clientCache((baseURL) => new Anthropic({ baseURL, apiKey: 'x', maxRetries: 0, timeout: 600000 }));

    // The SDK's own Stream, iterated directly (no wrapper generator).
    function open(knobs, signal) {
      return client(anthropicBase(ctx.mockOrigin, knobs)).messages.create(
        { ...ANTHROPIC_BODY, stream: true },
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
          for await (const ev of stream) {
            if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') {
              const wait = out.text(ev.delta.text);
              if (wait) await wait;
            } else if (ev.type === 'message_delta' && ev.delta.stop_reason) {
              finish = ev.delta.stop_reason;
            }
          }
          out.finish(finish);
        } catch (err) {
          if (!ac.signal.aborted) out.error(err);
        }
      },
      async consume(knobs, onText, signal) {
        for await (const ev of await open(knobs, signal)) {
          if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') onText(ev.delta.text);
        }
      },
    };
  },
};

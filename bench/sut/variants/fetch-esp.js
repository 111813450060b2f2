'use strict';
// What many hand-rolled relays do: global fetch (undici), the response body as an
// async iterable, TextDecoder, eventsource-parser and JSON.parse per event.
const { createParser } = require('eventsource-parser');
const { SseOut, abortOnClose } = require('../../lib/sse-out');
const { OPENAI_BODY, openaiBase } = require('../../lib/upstream');

const BODY = JSON.stringify({ ...OPENAI_BODY, stream: true, stream_options: { include_usage: true } });

module.exports = {
  name: 'fetch-esp',
  label: 'fetch + eventsource-parser',
  packages: ['eventsource-parser'],
  upstream: 'openai',
  clientMode: 'sse',
  create(ctx) {
    async function run(knobs, signal, onText, onFinish) {
      const r = await fetch(`${openaiBase(ctx.mockOrigin, knobs)}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer x', accept: 'text/event-stream' },
        body: BODY,
        signal,
      });
      if (!r.ok) throw new Error(`Expected HTTP 200 from the provider but received ${r.status}`);
      let wait;
      const parser = createParser({
        onEvent(ev) {
          if (ev.data === '[DONE]') return;
          const chunk = JSON.parse(ev.data);
          const choice = chunk.choices && chunk.choices[0];
          if (choice === undefined) return;
          const text = choice.delta && choice.delta.content;
          if (text) wait = onText(text) || wait;
          if (choice.finish_reason && onFinish) onFinish(choice.finish_reason);
        },
      });
      const decoder = new TextDecoder();
      return { r, parser, decoder, next: () => wait, clear: () => (wait = undefined) };
    }

    return {
      async handle(req, res, knobs) {
        const ac = abortOnClose(res);
        const out = new SseOut(res);
        let finish = null;
        try {
          const s = await run(
            knobs,
            ac.signal,
            (t) => out.text(t),
            (f) => (finish = f),
          );
          out.head();
          for await (const bytes of s.r.body) {
            s.parser.feed(s.decoder.decode(bytes, { stream: true }));
            const wait = s.next();
            if (wait) {
              s.clear();
              await wait;
            }
          }
          out.finish(finish);
        } catch (err) {
          if (!ac.signal.aborted) out.error(err);
        }
      },
      async consume(knobs, onText, signal) {
        const s = await run(knobs, signal, (t) => {
          onText(t);
        });
        for await (const bytes of s.r.body) s.parser.feed(s.decoder.decode(bytes, { stream: true }));
      },
    };
  },
};

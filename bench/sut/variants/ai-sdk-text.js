'use strict';
// Vercel AI SDK as documented for Node servers: streamText() then
// result.pipeTextStreamToResponse(res). It writes plain text (no event framing,
// no finish marker), so the load client reads this row in its text mode: every
// token is still checked by content and timed, but there is no [DONE] to check.
const { abortOnClose } = require('../../lib/sse-out');
const { createAiSdk } = require('./ai-sdk');

module.exports = {
  name: 'ai-sdk-text',
  label: 'AI SDK pipeTextStreamToResponse (text)',
  packages: ['ai', '@ai-sdk/openai'],
  upstream: 'openai',
  clientMode: 'text',
  create(ctx) {
    const start = createAiSdk(ctx);
    return {
      handle(req, res, knobs) {
        const ac = abortOnClose(res);
        start(knobs, ac.signal).pipeTextStreamToResponse(res);
      },
    };
  },
};

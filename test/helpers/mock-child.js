'use strict';

// A mock provider in its own process, so a test can measure this process's
// memory without the mock's buffers in it. The parent sends
// { provider, script, repeat?: { token, count } } over IPC (`repeat` builds a
// long token list here instead of shipping it) and gets { baseURL } back.
// Then each 'requests' message is answered with the requests' states
// ({ completed, endedByClient } each).
const { startMockProvider } = require('../../lib/testing');

process.once('message', async ({ provider, script, repeat }) => {
  const scenario = { ...script };
  if (repeat) scenario.tokens = Array.from({ length: repeat.count }, () => repeat.token);
  const mock = await startMockProvider({ provider, script: scenario });
  process.send({ baseURL: mock.baseURL(provider) });
  process.on('message', (m) => {
    if (m === 'requests')
      process.send(mock.requests.map(({ completed, endedByClient }) => ({ completed, endedByClient })));
  });
  process.on('disconnect', () => mock.close().then(() => process.exit(0)));
});

'use strict';

// A short streaming run for the leak check (scripts/leaks.sh): completed,
// aborted, errored and timed-out streams, then a clean exit.
const { stream } = require('..');
const { startMockProvider } = require('../lib/testing');

(async () => {
  const mock = await startMockProvider({
    provider: 'openai',
    script: (req, n) =>
      [
        { tokens: 'complete answer here' },
        { tokens: Array.from({ length: 50 }, () => 'x '), delayMs: 5 },
        { status: 500 },
        { tokens: 'a b', stallAfter: 1 },
        { tokens: 'cut', omitEndMarker: true },
      ][n % 5],
  });
  const base = {
    provider: 'openai',
    baseURL: mock.baseURL('openai'),
    apiKey: 'k',
    body: { model: 'm', messages: [] },
    retry: false,
  };
  for (let round = 0; round < 2; round++) {
    await stream(base).done;
    const s = stream(base);
    const reader = s.getReader();
    await reader.read();
    s.abort();
    await s.done.catch(() => {});
    await stream(base).done.catch(() => {});
    await stream({ ...base, timeouts: { idleMs: 100 } }).done.catch(() => {});
    await stream(base).done.catch(() => {});
  }
  await mock.close();
  console.log('leak run done');
})();

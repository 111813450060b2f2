'use strict';

// Runs inside a worker_threads Worker: streams once from the mock and posts
// the text back; with `hold`, posts after the first delta and keeps reading.
const { parentPort, workerData } = require('node:worker_threads');
const { stream } = require('../..');

(async () => {
  const s = stream({
    provider: 'openai',
    baseURL: workerData.baseURL,
    apiKey: 'k',
    body: { model: 'm', messages: [] },
  });
  if (workerData.hold) {
    const reader = s.getReader();
    await reader.read();
    parentPort.postMessage('started');
    await new Promise(() => {}); // terminated from outside mid-stream
  }
  parentPort.postMessage((await s.done).text);
})();

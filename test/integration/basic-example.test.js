'use strict';

const { execFile } = require('node:child_process');
const path = require('node:path');

test('examples/basic/stream.js streams an OpenAI-format answer from the mock to the terminal', async () => {
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  const out = await new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(__dirname, '..', '..', 'examples', 'basic', 'stream.js'), 'What is SSE?'],
      { env, timeout: 20000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
  expect(out).toMatch(
    /^You asked: What is SSE\? Here is a streamed answer, token by token\.\n\n\d+ tokens, first after [\d.]+ ms\n$/,
  );
});

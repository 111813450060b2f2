'use strict';

// A producing "app instance" in its own process, for the test that kills
// one with SIGKILL: claims a stream on Redis, logs `count` batches of two
// deltas, says "logged" on stdout, then stays alive (refreshing its claim)
// until it is killed. argv: url, id, count.

const { createRedisStore } = require('../../lib/resume');
const { batches } = require('../resume/helpers');

async function main() {
  const [url, id, count] = process.argv.slice(2);
  const store = createRedisStore({ url });
  await store.claim(id, { producer: process.pid });
  for (const b of batches(1, Number(count) * 2, 2)) store.append(id, b);
  // stop() of an unknown id is a round trip behind the appends: they are in Redis once it answers.
  await store.stop('flush-marker');
  process.stdout.write('logged\n');
  setInterval(() => {}, 1 << 30);
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});

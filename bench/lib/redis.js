'use strict';
// The redis-server of the llm-relay-resume-redis row: Debian's binary, pinned to the tools'
// core, no persistence, killed with the run. Missing binary: the row is skipped with a message,
// nothing is installed.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const procs = require('./procs');
// The same redis-server options and free-port probe as the tests.
const { serverArgs } = require('../../test/helpers/redis');
const { freePort } = require('../../test/helpers/system');

const REDIS = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';

/**
 * @param {number} core the core to pin it to
 * @returns {Promise<{ url: string, child: object, dir: string } | { missing: string }>}
 */
async function startRedis(core) {
  try {
    fs.accessSync(REDIS, fs.constants.X_OK);
  } catch {
    return { missing: `redis-server not found at ${REDIS} (apt-get install redis-server, or set REDIS_SERVER_BIN)` };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-bench-redis-'));
  const port = await freePort();
  const child = procs.spawnPinned(core, REDIS, ['--port', String(port), ...serverArgs(dir)]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { missing: `redis-server exited at start (${child.exitCode})` };
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return { url: `redis://127.0.0.1:${port}`, child, dir };
    await procs.sleep(20);
  }
  child.kill('SIGKILL');
  return { missing: 'redis-server did not listen within 10 s' };
}

module.exports = { startRedis };

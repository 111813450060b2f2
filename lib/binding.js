'use strict';

// Loads the native addon and routes its batched records to the streams.
// One handler call per main-loop wakeup carries every ready stream.

const path = require('node:path');

// LLM_RELAY_ADDON: the path of another build of the addon to load instead
// (the sanitizer builds of .ci/stages/asan.sh live in build-asan/).
const addonPath = process.env.LLM_RELAY_ADDON || path.join(__dirname, '..', 'build', 'Release', 'llm_relay.node');

let native;
try {
  native = require(addonPath);
} catch (err) {
  const hint =
    'llm-relay: the native addon is not built. Install the system packages and build it:\n' +
    '  sudo apt-get install -y cmake g++ libcurl4-gnutls-dev rapidjson-dev && npm run build';
  const wrapped = new Error(`${hint}\n(${err.message.split('\n')[0]})`, { cause: err });
  wrapped.code = 'ERR_LLM_RELAY_NOT_BUILT';
  throw wrapped;
}

/** @type {Map<number, {onRecord(head?: string, data?: string|Buffer, end?: string, tail?: Buffer): void}>} */
const streams = new Map();

native.setHandler((records) => {
  for (let i = 0; i < records.length; i += 5) {
    const target = streams.get(records[i]);
    if (target === undefined) continue;
    const end = records[i + 3];
    if (end !== undefined) streams.delete(records[i]);
    try {
      target.onRecord(records[i + 1], records[i + 2], end, records[i + 4]);
    } catch (err) {
      // A bug in a consumer must not stop the other streams of this batch.
      process.nextTick(() => {
        throw err;
      });
    }
  }
});

// DIRECT: set the mode and let the worker write the body to the client's
// socket itself (lib/server/node.js); DETACH: that client is gone.
const Command = Object.freeze({ MODE: 1, PAUSE: 2, RESUME: 3, ABORT: 4, DIRECT: 5, DETACH: 6 });

module.exports = {
  native,
  Command,
  /** Registers a stream and starts it; returns its id. */
  start(target, config) {
    // Records arrive on a later main-loop turn, so registering after the
    // native start cannot miss any.
    const id = native.start(config);
    streams.set(id, target);
    return id;
  },
  command(id, type, mode) {
    native.command(id, type, mode);
  },
  /**
   * Sets the mode and hands the worker the client's socket fd: from now on it
   * writes `header` (the response head) and the body there as HTTP/1.1
   * chunks, with `heartbeat` (a Buffer, or null) after `heartbeatMs` without
   * a write.
   */
  direct(id, mode, fd, heartbeat, heartbeatMs, header) {
    native.command(id, Command.DIRECT, mode, fd, heartbeat, heartbeatMs, header);
  },
  providers() {
    return native.providers().split(',').map((s) => s.trim());
  },
};

'use strict';

// Loads the native addon and routes its batched records to the streams.
// One handler call per main-loop wakeup carries every ready stream.

const { loadNative } = require('./load-native');

const native = loadNative();
// The prebuilt binary gets Node's trust store before its first stream.
let trustStoreSent = native.needsTrustStore !== true;

// What the addon says of itself: command numbers, error codes, provider
// and format names, the layout of a record. Nothing here repeats them.
const { commands, recordSlots } = native.constants;
const SLOT_ID = recordSlots.id;
const SLOT_HEAD = recordSlots.head;
const SLOT_DATA = recordSlots.data;
const SLOT_END = recordSlots.end;
const SLOT_TAIL = recordSlots.tail;
const SLOT_LOG = recordSlots.log;
const RECORD_SIZE = recordSlots.size;

/** @type {Map<number, {onRecord(head?: string, data?: string|Buffer, end?: string, tail?: Buffer, log?: {first: number, count: number, data: Buffer}): void}>} */
const streams = new Map();

/**
 * Entry k of a wakeup's log table: a resume store's batch. `data` is a view
 * of the wakeup's shared Buffer (no copy): a store that keeps it copies it.
 */
function logBatch(bytes, table, k) {
  const at = k * 4;
  return { first: table[at], count: table[at + 1], data: bytes.subarray(table[at + 2], table[at + 3]) };
}

// One call per worker wakeup (src/binding/addon.cc, CallJs): RECORD_SIZE
// slots per stream (empty slots are holes); the resume log entries of every
// record share one Buffer, `logBytes`, described by `logTable`.
native.setHandler((records, logBytes, logTable) => {
  for (let i = 0; i < records.length; i += RECORD_SIZE) {
    const id = records[i + SLOT_ID];
    const target = streams.get(id);
    if (target === undefined) continue;
    const end = records[i + SLOT_END];
    if (end !== undefined) streams.delete(id);
    const k = records[i + SLOT_LOG];
    try {
      target.onRecord(
        records[i + SLOT_HEAD],
        records[i + SLOT_DATA],
        end,
        records[i + SLOT_TAIL],
        k === undefined ? undefined : logBatch(logBytes, logTable, k),
      );
    } catch (err) {
      // A bug in a consumer must not stop the other streams of this batch.
      process.nextTick(() => {
        throw err;
      });
    }
  }
});

/** The commands JavaScript sends (numbers from the addon). */
const Command = Object.freeze({ ...commands });

// The addon reads a stream's config and a consume spec as call arguments
// (src/binding/config.h says why), in the order of these lists, which must
// be the addon's own: a stale build would otherwise read one value as another.
const CONFIG_KEYS = [
  'provider',
  'request.url',
  'request.method',
  'request.body',
  'request.headers',
  'request.http2PriorKnowledge',
  'tls.caFile',
  'tls.rejectUnauthorized',
  'timeouts.connectMs',
  'timeouts.firstByteMs',
  'timeouts.idleMs',
  'timeouts.totalMs',
  'retry.attempts',
  'retry.baseDelayMs',
  'retry.maxDelayMs',
  'maxEventBytes',
  'encoder.responseId',
  'encoder.model',
  'encoder.created',
  'secrets',
];
const CONSUME_KEYS = [
  'format',
  'heartbeat',
  'heartbeatMs',
  'heartbeatAfterHead',
  'socketFd',
  'preamble',
  'firstSeq',
  'outlivesClient',
  'role',
  'messageId',
];
for (const [ours, theirs] of [
  [CONFIG_KEYS, native.constants.configKeys],
  [CONSUME_KEYS, native.constants.consumeKeys],
]) {
  if (String(ours) !== String(theirs)) {
    throw new Error(
      'llm-relay: lib/binding.js and the native addon disagree on the values they exchange; rebuild the addon (npm run build)',
    );
  }
}

// start() queues a stream without waking the worker; one wakeup at the end of
// this turn of the main loop (or the next command, usually the CONSUME of
// pipe() or a reader) sends everything queued.
let wakeQueued = false;
function wake() {
  wakeQueued = false;
  native.wake();
}

module.exports = {
  native,
  Command,
  /** The RelayError codes the native side produces. */
  errorCodes: Object.freeze([...native.constants.errorCodes]),
  /** The provider and format names the native side knows. */
  providers: Object.freeze([...native.constants.providers]),
  formats: Object.freeze([...native.constants.formats]),
  /** Registers a stream and starts it; returns its id. */
  start(target, config) {
    const { request: r, tls, timeouts: t, retry, encoder: e } = config;
    // Records arrive on a later main-loop turn, so registering after the
    // native start cannot miss any. The values in CONFIG_KEYS order.
    if (!trustStoreSent) {
      trustStoreSent = true;
      native.setTrustStore(require('./trust-store').nodeTrustStore());
    }
    const id = native.start(
      config.provider,
      r.url,
      r.method,
      r.body,
      r.headers,
      r.http2PriorKnowledge,
      tls.caFile,
      tls.rejectUnauthorized,
      t.connectMs,
      t.firstByteMs,
      t.idleMs,
      t.totalMs,
      retry.attempts,
      retry.baseDelayMs,
      retry.maxDelayMs,
      config.maxEventBytes,
      e.responseId,
      e.model,
      e.created,
      config.secrets,
    );
    streams.set(id, target);
    if (!wakeQueued) {
      wakeQueued = true;
      queueMicrotask(wake);
    }
    return id;
  },
  /** PAUSE, RESUME, ABORT or DETACH. */
  command(id, kind) {
    native.command(id, kind);
  },
  /**
   * Chooses how the stream is consumed: `format` 'json' (object mode),
   * 'discard' (only the summary) or a relay format. For relays: `heartbeat`
   * bytes after `heartbeatMs` without a write (none before the provider's
   * head with `heartbeatAfterHead`); `socketFd` + `preamble` to have the
   * worker write the response head and body to the client's socket itself
   * (the fd is duplicated inside this call; lib/server/node-direct.js); `firstSeq`
   * (> 0) to make it resumable: every delta is logged with a sequence
   * number from there on (records carry the entries) and SSE events carry
   * them as ids, and with `outlivesClient` a client that leaves does not end
   * it; `role` 'step' and `messageId` for one step of a multi-step relay.
   */
  consume(id, spec) {
    // The values in CONSUME_KEYS order.
    native.command(
      id,
      Command.CONSUME,
      spec.format,
      spec.heartbeat === undefined ? null : spec.heartbeat,
      spec.heartbeatMs || 0,
      spec.heartbeatAfterHead === true,
      spec.socketFd === undefined ? -1 : spec.socketFd,
      spec.preamble || '',
      spec.firstSeq || 0,
      spec.outlivesClient === true,
      spec.role || 'whole',
      spec.messageId || '',
    );
  },
  /**
   * An encoder on the main thread, for bytes JavaScript writes itself in a
   * format the worker otherwise encodes (resumed readers, the parts of a
   * multi-step relay between its steps): see src/binding/encoder_object.h.
   * @param {string} format
   * @param {{responseId?: string, model?: string, created?: number, role?: 'whole'|'outer'|'step', ids?: boolean}} options
   */
  createEncoder(format, options) {
    return new native.Encoder(format, options);
  },
};

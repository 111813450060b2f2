'use strict';

// The Redis store talks to Redis through one small adapter, so it works on
// its own connections (`url`) or on an application's node-redis (v4+) or
// ioredis client (`client`). An adapter:
//   isReady()                 connected and usable now
//   whenReady()               resolves when usable, rejects STORE_UNAVAILABLE
//   send(args)                one command -> Promise of its RESP2-shaped reply
//   post(args, cb, ctx)       hot path, no promise: cb(err, reply, ctx); false when not ready
//   connection                `url` only: the command RespConnection, for hand-encoded appends
//   onState(fn)               fn('ready' | 'down') on (re)connects and losses
//   blocking(blockMs)         a second connection for XREAD BLOCK: { send, close }
//   subscribe(channel, fn)    a pub/sub connection: fn(message); -> { close }
//   close()                   what the adapter opened (never the application's client)

const { RespConnection, parseRedisUrl } = require('./redis-connection');
const { unavailable } = require('./errors');
const { invalidArgument } = require('../errors');
const { describe } = require('../validate');

function urlAdapter(url, options) {
  const parsed = parseRedisUrl(url);
  const target = {
    ...parsed,
    tls: parsed.tls ? options.tls || true : false,
    connectTimeoutMs: options.connectTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs,
  };
  const listeners = [];
  const cmd = new RespConnection(target, (state) => listeners.forEach((fn) => fn(state)));
  const owned = [cmd];
  // A connection that never came up is closed, not left retrying in the background.
  const open = async (extra, onPush) => {
    const conn = new RespConnection({ ...target, ...extra }, undefined, onPush);
    try {
      await conn.whenReady();
    } catch (err) {
      await conn.close();
      throw err;
    }
    owned.push(conn);
    return conn;
  };
  return {
    kind: 'url',
    isReady: () => cmd.state === 'ready',
    whenReady: () => cmd.whenReady(),
    send: (args) => cmd.send(args),
    post: (args, cb, ctx) => cmd.post(args, cb, ctx),
    // The hot path writes XADDs into this connection's buffer itself.
    connection: cmd,
    onState: (fn) => listeners.push(fn),
    async blocking(blockMs) {
      // A blocked XREAD owes its reply for blockMs: the watchdog allows for it.
      const conn = await open({ commandTimeoutMs: target.commandTimeoutMs + blockMs });
      return { send: (args) => conn.send(args), close: () => conn.close() };
    },
    async subscribe(channel, fn) {
      // SUBSCRIBE in the handshake: every reconnect subscribes again before it counts as ready.
      // PING now and then: a half-open subscriber socket would otherwise miss stops silently.
      const conn = await open({ handshake: [['SUBSCRIBE', channel]], pingMs: 5000 }, (message) => {
        if (message[1] === channel) fn(message[2]);
      });
      return { close: () => conn.close() };
    },
    close: () => Promise.all(owned.map((c) => c.close())),
  };
}

/** Reply errors (WRONGTYPE, NOSCRIPT...) stay as they are; anything else means Redis is out of reach. */
function mapError(err) {
  for (let p = err; p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    const name = p.constructor && p.constructor.name;
    if (name === 'ErrorReply' || name === 'ReplyError') return err;
  }
  return unavailable(err && err.message ? err.message : String(err), err);
}

/** RESP3 clients give maps (XREAD) as objects or Maps; the store reads RESP2 arrays. */
function normalize(reply) {
  if (reply instanceof Map) return [...reply.entries()].map(([k, v]) => [k, normalize(v)]);
  if (Array.isArray(reply)) return reply.map(normalize);
  if (reply !== null && typeof reply === 'object' && !Buffer.isBuffer(reply)) {
    return Object.entries(reply).map(([k, v]) => [k, normalize(v)]);
  }
  return reply;
}

function clientAdapter(client, kind, ops) {
  const listeners = [];
  const onReady = () => listeners.forEach((fn) => fn('ready'));
  const onDown = () => listeners.forEach((fn) => fn('down'));
  // Through post(), like appends: one queue keeps every command in call order.
  const send = (args) =>
    new Promise((resolve, reject) =>
      ops.post(client, args, (err, reply) => (err ? reject(err) : resolve(normalize(reply)))),
    );
  const duplicates = new Set();
  const duplicate = async () => {
    const dup = client.duplicate();
    dup.on('error', () => {}); // the owner of the client sees its errors; this copy only reconnects
    if (ops.connect) {
      try {
        await ops.connect(dup);
      } catch (err) {
        await Promise.resolve(ops.close(dup)).catch(() => {});
        throw mapError(err);
      }
    }
    duplicates.add(dup);
    return dup;
  };
  return {
    kind,
    isReady: () => ops.ready(client),
    whenReady: () =>
      ops.ready(client)
        ? Promise.resolve()
        : Promise.reject(
            unavailable(`the ${kind} client is not connected (connect it before use; Redis may be unreachable)`),
          ),
    send,
    post(args, cb, ctx) {
      // Not ready: the client would queue it offline without bound; drop it instead.
      if (!ops.ready(client)) return false;
      ops.post(client, args, cb, ctx);
      return true;
    },
    onState(fn) {
      if (listeners.length === 0) {
        client.on('ready', onReady);
        for (const event of ops.downEvents) client.on(event, onDown);
      }
      listeners.push(fn);
    },
    async blocking() {
      const dup = await duplicate();
      return {
        send: (args) => ops.call(dup, args).then(normalize, (err) => Promise.reject(mapError(err))),
        close: () => ops.close(dup),
      };
    },
    async subscribe(channel, fn) {
      const dup = await duplicate();
      await ops.subscribe(dup, channel, fn);
      return { close: () => ops.close(dup) };
    },
    async close() {
      client.off('ready', onReady);
      for (const event of ops.downEvents) client.off(event, onDown);
      await Promise.all([...duplicates].map((d) => ops.close(d)));
    },
  };
}

const NODE_REDIS = {
  ready: (c) => c.isReady,
  call: (c, args) => c.sendCommand(args),
  post(c, args, cb, ctx) {
    // node-redis writes every command of one tick in one go (auto-pipelining).
    c.sendCommand(args).then(
      (reply) => cb(null, reply, ctx),
      (err) => cb(mapError(err), null, ctx),
    );
  },
  connect: (c) => c.connect(),
  subscribe: (c, channel, fn) => c.subscribe(channel, (message) => fn(message)),
  // Already closed (e.g. it never connected) is fine.
  close: (c) =>
    Promise.resolve()
      .then(() => (typeof c.destroy === 'function' ? c.destroy() : c.disconnect()))
      .catch(() => {}),
  downEvents: ['end', 'reconnecting'],
};

const IOREDIS = {
  ready: (c) => c.status === 'ready',
  call: (c, args) => c.call(args[0], ...args.slice(1)),
  post(c, args, cb, ctx) {
    // ioredis writes each command on its own: gather one tick's into a pipeline.
    let batch = IOREDIS.batches.get(c);
    if (batch === undefined) {
      batch = [];
      IOREDIS.batches.set(c, batch);
      setImmediate(() => {
        IOREDIS.batches.delete(c);
        const pipeline = c.pipeline();
        for (const b of batch) pipeline.call(b.args[0], ...b.args.slice(1));
        pipeline.exec((err, results) => {
          batch.forEach((b, i) => {
            const [e, reply] = results ? results[i] : [err, null];
            b.cb(e ? mapError(e) : null, e ? null : reply, b.ctx);
          });
        });
      });
    }
    batch.push({ args, cb, ctx });
  },
  batches: new WeakMap(),
  subscribe(c, channel, fn) {
    c.on('message', (ch, message) => {
      if (ch === channel) fn(message);
    });
    return c.subscribe(channel);
  },
  close: (c) => c.disconnect(),
  downEvents: ['close'],
};

/** The adapter for createRedisStore({ url } | { client }). */
function createAdapter(options) {
  if (options.url !== undefined) {
    if (options.client !== undefined)
      throw invalidArgument('Expected url or client for createRedisStore() but received both');
    if (typeof options.url !== 'string')
      throw invalidArgument(`Expected a string for url but received ${describe(options.url)}`);
    return urlAdapter(options.url, options);
  }
  const { client } = options;
  if (client && typeof client.call === 'function' && typeof client.pipeline === 'function')
    return clientAdapter(client, 'ioredis', IOREDIS);
  if (client && typeof client.sendCommand === 'function' && 'isReady' in client)
    return clientAdapter(client, 'node-redis', NODE_REDIS);
  throw invalidArgument(
    `Expected url (a redis:// URL) or client (a node-redis or ioredis client) for createRedisStore() but received ${describe(client)}`,
  );
}

module.exports = { createAdapter, normalize, mapError };

'use strict';

// One Redis connection with the small client the Redis store needs in `url`
// mode: TCP or TLS, AUTH and SELECT from the URL, pipelining (every command
// of one main-loop turn goes out in one socket write), reconnect with
// bounded backoff, and a watchdog that drops a connection whose replies
// stopped coming (a half-open socket never says so by itself).

const net = require('node:net');
const tls = require('node:tls');
const { RespParser, ReplyError } = require('./resp');
const { RespWriter } = require('./resp-writer');
const { unavailable } = require('./errors');
const { invalidArgument } = require('../errors');

const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2000;
const WATCHDOG_MS = 500;
// How long a log append may wait for the connection's next write (expectBatched).
const APPEND_FLUSH_MS = 1;

/**
 * redis://[[username]:password@]host[:port][/db], rediss:// for TLS.
 * @returns {{ host: string, port: number, tls: boolean, username?: string, password?: string, db: number }}
 */
function parseRedisUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (u === null || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) {
    throw invalidArgument(
      `Expected a redis:// or rediss:// URL for url but received ${JSON.stringify(String(url).replace(/\/\/[^@/]*@/, '//***@'))}`,
    );
  }
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0)
    throw invalidArgument(`Expected a database number after the host in url but received ${JSON.stringify(path)}`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
  };
}

class RespConnection {
  /**
   * @param {object} options host, port, tls (boolean or tls.connect options), username,
   *   password, db, connectTimeoutMs, commandTimeoutMs, handshake (extra commands sent
   *   on every connect before the connection counts as ready, e.g. SUBSCRIBE), pingMs
   *   (send PING this often, so the watchdog sees a dead peer on an idle connection)
   * @param {(state: 'ready' | 'down', error?: Error) => void} [onState]
   * @param {(message: unknown[]) => void} [onPush] pub/sub messages
   */
  constructor(options, onState, onPush) {
    this.options = options;
    this.onState = onState || (() => {});
    this.onPush = onPush || null;
    this.state = 'connecting'; // 'ready' | 'down' | 'closed'
    this.everReady = false;
    this.lastError = null;
    this.socket = null;
    this.parser = new RespParser(
      (value) => this.onReply(value),
      () => this.head < this.cbs.length && this.cbs[this.head].ignoresReply === true,
    );
    this.cbs = [];
    this.ctxs = [];
    this.head = 0;
    this.writer = new RespWriter();
    this.flushQueued = false;
    this.flushTimer = null;
    this.flushNow = () => this.flush();
    this.attempt = 0;
    this.reconnectTimer = null;
    this.readyWaiters = [];
    this.progress = 0;
    this.seenProgress = 0;
    this.stalledSince = 0;
    this.watchdog = setInterval(() => this.checkStall(), WATCHDOG_MS);
    this.watchdog.unref();
    this.pinger = null;
    if (options.pingMs) {
      this.pinger = setInterval(() => this.post(['PING'], () => {}, null), options.pingMs);
      this.pinger.unref();
    }
    this.connect();
  }

  /** Replies still owed. */
  get pending() {
    return this.cbs.length - this.head;
  }

  connect() {
    const { host, port, connectTimeoutMs } = this.options;
    const tlsOptions = this.options.tls;
    const socket = tlsOptions
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) ? undefined : host,
          ...(typeof tlsOptions === 'object' ? tlsOptions : {}),
        })
      : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(connectTimeoutMs, () =>
      socket.destroy(new Error(`connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`)),
    );
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, 5000);
      this.handshake();
    });
    socket.on('data', (chunk) => {
      this.progress++;
      try {
        this.parser.feed(chunk);
      } catch (err) {
        socket.destroy(err);
      }
    });
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => this.onClose(socket));
  }

  handshake() {
    const { username, password, db, handshake = [] } = this.options;
    const commands = [];
    if (password !== undefined) commands.push(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db) commands.push(['SELECT', String(db)]);
    commands.push(...handshake);
    if (commands.length === 0) return this.becomeReady();
    let left = commands.length;
    // This connection's socket: when it closes mid-handshake, onClose runs
    // the callback with an error after it cleared this.socket.
    const { socket } = this;
    const onHandshakeReply = (err) => {
      if (err) {
        this.lastError = err;
        socket.destroy(err);
      } else if (--left === 0) {
        this.becomeReady();
      }
    };
    for (const command of commands) {
      this.writer.command(command);
      this.expect(onHandshakeReply, null);
    }
  }

  becomeReady() {
    this.state = 'ready';
    this.everReady = true;
    this.attempt = 0;
    this.lastError = null;
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    this.onState('ready');
  }

  onClose(socket) {
    if (socket !== this.socket) return;
    this.socket = null;
    const wasReady = this.state === 'ready';
    // Not ready before the owed callbacks run: what they send must fail, not
    // queue up behind replies that will never come.
    if (this.state !== 'closed') this.state = 'down';
    const error = unavailable(this.describeError(), this.lastError || undefined);
    this.parser.reset();
    this.writer.clear();
    const cbs = this.cbs;
    const ctxs = this.ctxs;
    const head = this.head;
    this.cbs = [];
    this.ctxs = [];
    this.head = 0;
    for (let i = head; i < cbs.length; i++) cbs[i](error, null, ctxs[i]);
    if (this.state === 'closed') return;
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
    if (wasReady) this.onState('down', error);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state !== 'closed') this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  describeError() {
    const { host, port } = this.options;
    if (this.state === 'closed') return 'the store was closed';
    const why = this.lastError ? this.lastError.message : 'connection closed';
    return `Redis at ${host}:${port} is unreachable (${why})`;
  }

  /** Resolves when ready; while the first connect is under way it waits for it, otherwise fails fast. */
  whenReady() {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'connecting' && !this.everReady) {
      return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    }
    return Promise.reject(unavailable(this.describeError(), this.lastError || undefined));
  }

  /** True when commands can be written now (what the hot path checks first). */
  get ready() {
    return this.state === 'ready';
  }

  /**
   * After writing one command into `writer` (only while ready): its reply
   * goes to cb(err, reply, ctx). No promise, no closure: the hot path.
   */
  expect(cb, ctx) {
    this.cbs.push(cb);
    this.ctxs.push(ctx);
    if (!this.flushQueued) {
      this.flushQueued = true;
      if (this.flushTimer !== null) {
        clearTimeout(this.flushTimer);
        this.flushTimer = null;
      }
      // After the I/O phase: every command of this loop turn, one write.
      setImmediate(this.flushNow);
    }
  }

  /**
   * expect() for log appends: they may wait up to APPEND_FLUSH_MS for the
   * next write. Each main-loop wakeup brings the batches of a few streams,
   * and a socket write per wakeup cost more than the appends themselves
   * (bench row llm-relay-resume-redis); a millisecond delays a resumed
   * reader by nothing it can see. Any other command flushes them at once.
   */
  expectBatched(cb, ctx) {
    this.cbs.push(cb);
    this.ctxs.push(ctx);
    if (!this.flushQueued && this.flushTimer === null) this.flushTimer = setTimeout(this.flushNow, APPEND_FLUSH_MS);
  }

  /** One command with a callback; false, and nothing written, when not ready. */
  post(args, cb, ctx) {
    if (this.state !== 'ready') return false;
    this.writer.command(args);
    this.expect(cb, ctx);
    return true;
  }

  /** One command; resolves with its reply, rejects with STORE_UNAVAILABLE or the ReplyError. */
  send(args) {
    return new Promise((resolve, reject) => {
      const done = (err, reply) => (err ? reject(err) : resolve(reply));
      if (!this.post(args, done, null)) reject(unavailable(this.describeError(), this.lastError || undefined));
    });
  }

  flush() {
    this.flushQueued = false;
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const socket = this.socket;
    const chunk = this.writer.take();
    if (socket === null || chunk === null) return;
    socket.write(chunk, () => this.writer.recycle(chunk));
  }

  onReply(value) {
    if (this.onPush !== null && Array.isArray(value) && value[0] === 'message') {
      this.onPush(value);
      return;
    }
    const i = this.head;
    if (i >= this.cbs.length) throw new Error('Redis protocol error: a reply nobody asked for');
    const cb = this.cbs[i];
    const ctx = this.ctxs[i];
    this.cbs[i] = undefined;
    this.ctxs[i] = undefined;
    if (++this.head === this.cbs.length) {
      this.cbs = [];
      this.ctxs = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.cbs.length) {
      this.cbs = this.cbs.slice(this.head);
      this.ctxs = this.ctxs.slice(this.head);
      this.head = 0;
    }
    if (value instanceof ReplyError) cb(value, null, ctx);
    else cb(null, value, ctx);
  }

  /** Drops the connection when replies are owed and none came for commandTimeoutMs. */
  checkStall() {
    if (this.socket === null || this.pending === 0) {
      this.stalledSince = 0;
      return;
    }
    const now = Date.now();
    if (this.progress !== this.seenProgress || this.stalledSince === 0) {
      this.seenProgress = this.progress;
      this.stalledSince = now;
    } else if (now - this.stalledSince > this.options.commandTimeoutMs) {
      this.socket.destroy(new Error(`no reply for ${this.options.commandTimeoutMs} ms`));
    }
  }

  /** Ends the connection; owed replies fail with STORE_UNAVAILABLE. */
  close() {
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closed';
    clearInterval(this.watchdog);
    clearInterval(this.pinger);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.flushTimer);
    for (const w of this.readyWaiters.splice(0)) w.reject(unavailable('the store was closed'));
    const socket = this.socket;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', resolve);
      socket.destroy();
    });
  }
}

module.exports = { RespConnection, parseRedisUrl };

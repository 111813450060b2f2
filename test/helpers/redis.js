'use strict';

// Runs a real redis-server (Debian's package) for a test: its own port on
// 127.0.0.1, no persistence (--save '' --appendonly no), a temporary working
// directory, killed by stop(). kill() (SIGKILL) and start() again on the same
// port let a test take Redis away mid-stream and bring it back.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort, requireBinary } = require('./system');

const REDIS = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 10_000;

/**
 * The options every redis-server of the tests and the bench runs with: on 127.0.0.1, no
 * persistence, `dir` as its working directory, in the foreground, quiet.
 * @param {string} dir
 */
function serverArgs(dir) {
  return [
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
}

function requireRedis() {
  return requireBinary(REDIS, { name: 'redis-server', pkg: 'redis-server', envVar: 'REDIS_SERVER_BIN' });
}

/**
 * @param {{ tls?: { key: string, cert: string, ca: string }, args?: string[] }} [options] tls: Redis
 *   listens with TLS only (tls-port), with these PEM files; args: more redis-server options
 */
async function startRedis(options = {}) {
  const bin = requireRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-redis-'));
  let child = null;
  let port = null;
  let exited = null;

  const args = (p) => {
    const common = [...serverArgs(dir), ...(options.args || [])];
    if (!options.tls) return ['--port', String(p), ...common];
    const file = (name, text) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    return [
      '--port',
      '0',
      '--tls-port',
      String(p),
      ...common,
      '--tls-cert-file',
      file('cert.pem', options.tls.cert),
      '--tls-key-file',
      file('key.pem', options.tls.key),
      '--tls-ca-cert-file',
      file('ca.pem', options.tls.ca),
      '--tls-auth-clients',
      'no',
    ];
  };

  async function launch(p) {
    child = spawn(bin, args(p), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`redis-server exited at start: ${output}`);
      if (await canConnect(p)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not listen on ${p} within ${READY_TIMEOUT_MS} ms: ${output}`);
  }

  /** Starts (again) on the same port. */
  async function start() {
    if (port === null) {
      let lastError;
      for (let attempt = 0; attempt < 3; attempt++) {
        const p = await freePort();
        try {
          await launch(p);
          port = p;
          return;
        } catch (err) {
          lastError = err;
        }
      }
      throw lastError;
    }
    await launch(port);
  }

  /** SIGKILL, like a crash; resolves once the process is gone. */
  async function kill() {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async function stop() {
    await kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  await start();
  const scheme = options.tls ? 'rediss' : 'redis';
  return { port, url: `${scheme}://127.0.0.1:${port}`, start, kill, stop, pid: () => child.pid };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

module.exports = { startRedis, requireRedis, serverArgs };

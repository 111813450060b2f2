'use strict';

// Runs a real nginx (Debian's /usr/sbin/nginx) as an unprivileged, foreground, single process with
// everything it writes kept in a temporary directory, so a test can put it in front of a local app
// and always kill it afterwards.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort, requireBinary } = require('./system');

const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';
const READY_TIMEOUT_MS = 10_000;

/** Throws a message that says how to get nginx when the binary is missing. */
function requireNginx() {
  return requireBinary(NGINX, { name: 'nginx', pkg: 'nginx', envVar: 'NGINX_BIN' });
}

/** A port that was free a moment ago (nginx binds it itself; startNginx retries on a clash). */

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

/**
 * The main config around a site file: no daemon, no master (so one pid to kill), and every path
 * nginx writes (pid, error log, temp dirs) inside `dir`, because the defaults under /var need root.
 */
function mainConfig(dir, siteFile) {
  const p = (name) => path.join(dir, name);
  return `daemon off;
master_process off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} info;
events { worker_connections 256; }
http {
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path ${p('client_body')};
    proxy_temp_path ${p('proxy')};
    fastcgi_temp_path ${p('fastcgi')};
    uwsgi_temp_path ${p('uwsgi')};
    scgi_temp_path ${p('scgi')};
    include ${siteFile};
}
`;
}

/**
 * Points a site config (examples/nginx.conf) at `appPort` and makes it listen on 127.0.0.1:`port`.
 * Fails loudly if the example no longer has the lines this rewrites.
 */
function adaptSite(site, appPort, port) {
  const upstream = /server 127\.0\.0\.1:\d+;/;
  const listen = /listen \d+;/;
  if (!upstream.test(site) || !listen.test(site)) {
    throw new Error(
      'examples/nginx.conf must keep "server 127.0.0.1:PORT;" in its upstream and "listen PORT;" in its server block',
    );
  }
  return site.replace(upstream, `server 127.0.0.1:${appPort};`).replace(listen, `listen 127.0.0.1:${port};`);
}

/**
 * Starts nginx with `siteConfig` (text for the http {} context) proxying to 127.0.0.1:`appPort`.
 * @param {{ siteConfig: string, appPort: number }} opts
 * @returns {Promise<{ port: number, origin: string, dir: string, errorLog: () => string, stop: () => Promise<void> }>}
 */
async function startNginx({ siteConfig, appPort }) {
  const bin = requireNginx();
  let lastError;
  // A port from freePort() can be taken by someone else before nginx binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-nginx-'));
    const port = await freePort();
    const siteFile = path.join(dir, 'site.conf');
    fs.writeFileSync(siteFile, adaptSite(siteConfig, appPort, port));
    fs.writeFileSync(path.join(dir, 'nginx.conf'), mainConfig(dir, siteFile));
    try {
      return await launch(bin, dir, port);
    } catch (err) {
      lastError = err;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

async function launch(bin, dir, port) {
  // -e: the startup error log before the config is read (the compiled-in default needs root).
  const child = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'startup.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const spawnFailed = new Promise((resolve) => child.once('error', (err) => resolve({ error: err })));
  const errorLog = () => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const early = await Promise.race([exited, spawnFailed, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (early) {
      const why = early.error ? early.error.message : `exit code ${early.code}, signal ${early.signal}`;
      throw new Error(`nginx exited at startup (${why}):\n${output}${errorLog()}`);
    }
    if (await canConnect(port)) {
      return { port, origin: `http://127.0.0.1:${port}`, dir, errorLog, stop };
    }
  }
  await stop();
  throw new Error(`nginx did not accept connections on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms:\n${output}`);
}

module.exports = { startNginx, requireNginx, adaptSite, mainConfig };

'use strict';
// Child processes of a bench run: every one is tracked and killed by pid when the
// run ends, however it ends (normal exit, exception, Ctrl-C). No kill by name.
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

let hooked = false;
function installExitHooks() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Spawns `cmd args` pinned to `core` (taskset execs, so child.pid is the program's pid). */
function spawnPinned(core, cmd, args, options = {}) {
  const argv = core === null ? [cmd, args] : ['taskset', ['-c', String(core), cmd, ...args]];
  return track(spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
}

/** Resolves with the exit code (or signal name) once the child exits. */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
}

/** SIGTERM, then SIGKILL after `graceMs`. */
async function stop(child, graceMs = 2000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

function collect(stream, limit = 1 << 20) {
  const state = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    if (state.text.length < limit) state.text += d;
  });
  return state;
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Busy and steal time of the whole machine from /proc/stat, in ns. */
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const tick = 1e7; // USER_HZ = 100
  return {
    busyNs: (user + nice + system + irq + softirq) * tick,
    stealNs: (steal || 0) * tick,
    idleNs: (idle + iowait) * tick,
  };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

module.exports = { track, killAll, installExitHooks, spawnPinned, exited, stop, collect, rssKb, machineCpu, sleep };

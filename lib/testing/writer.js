'use strict';

// Plays a list of frames (whole events) to one response: splits them into writes (one per event,
// N events per write, fixed-size or seeded random byte slices), waits ttftMs before the first write
// and delayMs between writes, sends keep-alive pings while idle, then ends, stalls or resets.

const { seededRandom } = require('./random');

const RANDOM_CHUNK_MAX = 32;
// Pause between the last write and an RST. On Linux an RST that reaches the peer while data is still
// unread in its receive queue can make that data unreadable, so the client would see fewer events than
// the scenario says were sent. A short pause lets a reading client drain first.
const RESET_GRACE_MS = 20;

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts. The timer is unref'd and cleared on
 * abort, so a stalled mock never keeps the process alive or leaks a handle.
 * @param {number} ms may be Infinity (wait for the abort only)
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(ms)) {
      timer = setTimeout(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        },
        Math.max(0, ms),
      );
      timer.unref();
    }
  });
}

/**
 * Splits frames into writes. Each write knows whether it ends on an event boundary, because a ping
 * may only go between events: one inside an event would corrupt it.
 * @param {Buffer[]} frames
 * @param {{chunkSize?: number, randomChunks?: number, eventsPerWrite?: number}} scenario
 * @returns {{bytes: Buffer, boundary: boolean}[]}
 */
function planWrites(frames, scenario) {
  const nonEmpty = frames.filter((f) => f.length > 0);
  if (scenario.eventsPerWrite !== undefined) {
    const writes = [];
    for (let i = 0; i < nonEmpty.length; i += scenario.eventsPerWrite) {
      writes.push({ bytes: Buffer.concat(nonEmpty.slice(i, i + scenario.eventsPerWrite)), boundary: true });
    }
    return writes;
  }
  if (scenario.chunkSize === undefined && scenario.randomChunks === undefined) {
    return nonEmpty.map((bytes) => ({ bytes, boundary: true }));
  }
  const body = Buffer.concat(nonEmpty);
  const boundaries = new Set();
  let offset = 0;
  for (const frame of nonEmpty) boundaries.add((offset += frame.length));
  const nextSize =
    scenario.chunkSize !== undefined
      ? () => scenario.chunkSize
      : (
          (rng) => () =>
            1 + Math.floor(rng() * RANDOM_CHUNK_MAX)
        )(seededRandom(scenario.randomChunks));
  const writes = [];
  for (let start = 0; start < body.length; ) {
    const end = Math.min(body.length, start + nextSize());
    writes.push({ bytes: body.subarray(start, end), boundary: boundaries.has(end) });
    start = end;
  }
  return writes;
}

/**
 * Plays the frames, then finishes with `action`.
 * @param {object} out the response sink: write(buf) → Promise<boolean>, end(), reset(), signal
 * @param {Buffer[]} frames
 * @param {object} scenario normalized scenario (timing and splitting options)
 * @param {string|null} ping keep-alive bytes of the format, or null if it has none
 * @param {'end'|'stall'|'reset'} action
 */
async function play(out, frames, scenario, ping, action) {
  const { signal } = out;
  const pingBytes = ping && scenario.pingEveryMs ? Buffer.from(ping) : null;
  let lastWriteAt = Date.now();
  let atBoundary = true;

  const write = async (bytes, boundary) => {
    const ok = await out.write(bytes);
    lastWriteAt = Date.now();
    atBoundary = boundary;
    return ok;
  };
  const pingIfDue = async () => {
    if (pingBytes && atBoundary && Date.now() - lastWriteAt >= scenario.pingEveryMs) return write(pingBytes, true);
    return true;
  };
  // Waits `ms` (or until the abort when Infinity), sending a ping whenever the stream has been idle
  // for pingEveryMs at an event boundary.
  const pause = async (ms) => {
    const until = Date.now() + ms;
    for (;;) {
      const now = Date.now();
      if (now >= until) return !signal.aborted;
      let wakeAt = until;
      if (pingBytes && atBoundary) wakeAt = Math.min(wakeAt, lastWriteAt + scenario.pingEveryMs);
      if (!(await sleep(wakeAt - now, signal))) return false;
      if (!(await pingIfDue())) return false;
    }
  };

  const writes = planWrites(frames, scenario);
  for (let i = 0; i < writes.length; i++) {
    const wait = i === 0 ? scenario.ttftMs : scenario.delayMs;
    if (wait > 0 && !(await pause(wait))) return;
    if (signal.aborted || !(await pingIfDue())) return;
    if (!(await write(writes[i].bytes, writes[i].boundary))) return;
  }
  if (signal.aborted) return;
  if (action === 'stall') {
    await pause(Infinity);
  } else if (action === 'reset') {
    if (await sleep(RESET_GRACE_MS, signal)) out.reset();
  } else {
    if (writes.length === 0 && scenario.ttftMs > 0 && !(await pause(scenario.ttftMs))) return;
    out.end();
  }
}

module.exports = { play, planWrites, sleep, RANDOM_CHUNK_MAX };

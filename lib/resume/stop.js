'use strict';

// onStop() listeners of a producing stream, shared by the stores. A stream
// state object carries `stopped` and `stopListeners` (a Set).

const { invalidArgument } = require('../errors');
const v = require('./validate');

/** Stop is sticky: a listener added after the stop still hears it. */
function addStopListener(s, listener) {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    listener();
  };
  if (s.stopped) {
    queueMicrotask(once);
    return () => {};
  }
  s.stopListeners.add(once);
  return () => s.stopListeners.delete(once);
}

/**
 * A store's `onStop(id, listener)`: `live` maps the ids this store produces
 * (claimed, not finished) to their state objects.
 * @returns {() => void} removes the listener
 */
function onStop(live, id, listener) {
  v.checkId(id);
  if (typeof listener !== 'function')
    throw invalidArgument(`Expected a function for onStop() listener but received ${typeof listener}`);
  const s = live.get(id);
  if (s === undefined)
    throw invalidArgument(`Expected a claimed, unfinished stream id for onStop() but received ${JSON.stringify(id)}`);
  return addStopListener(s, listener);
}

function fireStop(s) {
  s.stopped = true;
  const listeners = [...s.stopListeners];
  s.stopListeners.clear();
  // One microtask each, so a throwing listener does not silence the others.
  for (const fn of listeners) queueMicrotask(fn);
}

module.exports = { addStopListener, fireStop, onStop };

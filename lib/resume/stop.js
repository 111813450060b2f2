'use strict';

// onStop() listeners of a producing stream, shared by the stores. A stream
// state object carries `stopped` and `stopListeners` (a Set).

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

function fireStop(s) {
  s.stopped = true;
  const listeners = [...s.stopListeners];
  s.stopListeners.clear();
  // One microtask each, so a throwing listener does not silence the others.
  for (const fn of listeners) queueMicrotask(fn);
}

module.exports = { addStopListener, fireStop };

'use strict';

// The async iterator read() returns. An async generator cannot be cancelled
// while it awaits (return() queues behind the pending next()), and a reader
// whose client left must stop waiting for the producer at once; so this one
// runs a `pull(token)` function and return() fires the token.

/** Handed to pull(): `cancelled`, and `wait(promise)` that settles early on cancel. */
class CancelToken {
  constructor() {
    this.cancelled = false;
    this.onCancel = new Set();
  }

  cancel() {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const fn of this.onCancel) fn();
    this.onCancel.clear();
  }

  /** Registers fn to run on cancel; returns the unregister function. */
  add(fn) {
    if (this.cancelled) {
      fn();
      return () => {};
    }
    this.onCancel.add(fn);
    return () => this.onCancel.delete(fn);
  }
}

const DONE = Object.freeze({ value: undefined, done: true });

class EntryIterator {
  /**
   * @param {(token: CancelToken) => Promise<object | undefined>} pull the next
   *   entry, or undefined at the end; it may throw (the error ends the iterator).
   * @param {() => void} [release] runs once when the iterator ends for any reason
   * @param {AbortSignal} [signal] aborting it acts like return()
   */
  constructor(pull, release, signal) {
    this.pull = pull;
    this.release = release;
    this.token = new CancelToken();
    this.chain = Promise.resolve();
    this.finished = false;
    if (signal) {
      const onAbort = () => this.return();
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.token.add(() => signal.removeEventListener('abort', onAbort));
      }
    }
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    // Calls queue up: entries come out in order even without awaiting each.
    const result = this.chain.then(() => this.step());
    this.chain = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  async step() {
    if (this.finished) return DONE;
    let value;
    try {
      value = await this.pull(this.token);
    } catch (err) {
      this.finish();
      throw err;
    }
    if (value === undefined || this.token.cancelled) {
      this.finish();
      return DONE;
    }
    return { value, done: false };
  }

  /** Ends at once, also while a next() waits for the producer (that next() resolves done). */
  return() {
    this.token.cancel();
    this.finish();
    return Promise.resolve(DONE);
  }

  finish() {
    if (this.finished) return;
    this.finished = true;
    this.token.cancel();
    if (this.release) this.release();
  }
}

module.exports = { EntryIterator, CancelToken };

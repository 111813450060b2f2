'use strict';

// NodeRelay: the sink pipe() (node.js) gives an LLMStream, writing the
// worker's records to a Node ServerResponse. It moves bytes, not tokens:
// the worker thread encodes the downstream format and this file writes each
// batch as it is, one write per stream per main-loop wakeup. In direct mode
// (node-direct.js) the worker writes them to the socket itself and this file
// only ends the response.
//
// For the README — compression() and other middleware: pipe() works behind
// `compression()`. The response carries `Cache-Control: no-transform`, which
// compression() honours by not compressing it at all (a gzip stream would
// hold bytes back until its window fills). Should you override Cache-Control
// and let it compress, pipe() calls `res.flush()` after every write, which
// compression() maps to a zlib sync flush, so tokens still arrive as they are
// generated.

const binding = require('../binding');
const { RelayError } = require('../errors');
const { kRelay, kInfo } = require('../internal');
const { streamHeaders, errorAnswer } = require('./relay-options');
const { RelayWriter } = require('./relay-writer');
const internals = require('./node-internals');
const { encodeInBandError } = require('./in-band-error');
const { keepAliveHeader, cutShort, sendAnswer } = require('./node-response');
const { relayCommand } = require('./node-direct');

function noop() {}

/**
 * One pipe() response: the sink LLMStream[kRelay] feeds (head, data, log,
 * end), and `promise`, which settles with the stream's end.
 */
class NodeRelay {
  /**
   * @param {object} [producer] a ResumeProducer (resume-producer.js): the
   *   relay logs each batch to it, and a client that leaves does not end it
   */
  constructor(stream, res, options, producer = undefined) {
    this.stream = stream;
    this.res = res;
    this.options = options;
    this.producer = producer;
    this.direct = false; // the worker writes the body to the socket
    this.headByWorker = false; // ... and the head, which Node believes sent
    this.writer = new RelayWriter(stream, options, (bytes) => this.#write(bytes));
    this.headersOut = false;
    this.ended = false; // we ended (or destroyed) the response
    this.gone = false; // the response closed before we ended it: the client left
    this.finished = false; // sink.end ran
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The caller may ignore the returned promise (the client already got the
    // error in-band); that must not become an unhandled rejection. Awaiting
    // it still sees the rejection.
    this.promise.catch(noop);
    this.onClose = () => this.#onClose();
    this.onDrain = () => this.writer.resume();
  }

  /** `headers` false: the headers wait for start() (a queued response). */
  begin(headers = true) {
    const { res } = this;
    res.on('close', this.onClose);
    res.on('drain', this.onDrain);
    // Writes race with a disconnect; an 'error' on the response must not
    // crash the process (the 'close' that follows aborts upstream).
    res.on('error', noop);
    // Fallback for a stream that ended before it became a relay (a signal
    // that was already aborted): the worker then never calls end(). `done`
    // settles after end() when end() does run, so this is a no-op otherwise.
    this.stream.done.then(
      (summary) => this.end(undefined, summary, undefined, true),
      (error) => this.end(error, error.partial, undefined, true),
    );
    if (res.destroyed || res.writableEnded || (res.stream !== undefined && res.stream.destroyed)) {
      this.#onClose();
      return;
    }
    if (headers && !this.options.errorStatus && !this.headersOut) this.#sendHeaders();
  }

  /**
   * Makes the stream this response's relay (a queued response, once its
   * socket came): what pipe() does at once for any other response.
   */
  start(wantDirect) {
    if (this.ended || this.gone || this.finished) return;
    const { options } = this;
    try {
      this.stream[kRelay](options.format, this, {
        ...relayCommand(this, this.res, options, wantDirect),
        reserved: true,
      });
    } catch (err) {
      // Someone read the stream meanwhile (INVALID_ARGUMENT, as pipe()
      // throws it when it can).
      this.refuse(err);
      return;
    }
    if (!options.errorStatus && !this.headersOut && !this.finished) this.#sendHeaders();
  }

  /**
   * Called by the stream (kRelay) once it is ours: builds the response head
   * and returns it with the socket for the worker, or sends it and returns
   * null to keep Node's writes.
   */
  attachDirect() {
    const { res } = this;
    this.#sendHeaders(false);
    // The worker writes the head too (one socket write less on the main
    // thread per response); #headFallback gives it back if the worker never
    // takes the socket.
    const preamble = internals.takeHead(res);
    if (preamble === null) {
      res.flushHeaders();
      return null;
    }
    this.direct = true;
    this.headByWorker = true;
    return { socketFd: internals.socketFd(res.socket), preamble };
  }

  /**
   * The worker did not take the socket (the stream ended before the direct
   * command reached it, or the fd was unusable): Node writes everything, the
   * head first, as it would have without direct mode.
   */
  #headFallback() {
    this.direct = false;
    if (!this.headByWorker) return;
    this.headByWorker = false;
    internals.giveBackHead(this.res);
  }

  // ---- sink: called by the stream with the worker's records ----

  head() {
    if (this.headersOut || this.ended || this.gone) return;
    try {
      this.#sendHeaders();
    } catch (err) {
      this.#fail(err);
    }
  }

  /** A resumable relay's log batch { first, count, data } (after the batch's bytes). */
  log(batch) {
    this.producer.log(batch);
  }

  data(bytes) {
    if (this.ended || this.gone) return;
    if (this.direct) {
      // The worker could not use the socket and hands the bytes to us.
      this.#headFallback();
    }
    try {
      if (!this.headersOut) this.#sendHeaders();
      this.writer.data(bytes);
    } catch (err) {
      this.#fail(err);
    }
  }

  end(error, summary, tail, fallback = false, direct = undefined) {
    if (this.finished) return;
    this.finished = true;
    try {
      this.#end(error, tail, direct);
    } catch (err) {
      // Someone else wrote to `res` meanwhile (headers already sent, ...):
      // never leave the response open.
      this.ended = true;
      this.writer.stop();
      this.res.destroy();
      if (error === undefined) {
        error = new RelayError('ABORTED', `The response could not be written: ${err.message}`, { cause: err });
        error.partial = summary;
      }
    }
    this.#detach();
    // The end record goes to the store whether or not the client stayed.
    if (this.producer !== undefined) this.producer.finish(error, summary);
    if (error === undefined) this.resolve(summary);
    else this.reject(error);
  }

  /**
   * A resumable relay whose claim failed (the id is live elsewhere: 409; the
   * store is down: 503): the client gets that status and a JSON body, the
   * stream (which nobody will relay) is aborted, the promise rejects.
   */
  refuse(error) {
    if (this.finished) return;
    this.finished = true;
    this.ended = true;
    this.stream.abort(error);
    sendAnswer(this.res, errorAnswer(error), this.options.headers);
    this.reject(error);
  }

  // ---- internals ----

  #end(error, tail, direct) {
    const { res } = this;
    if (this.gone || this.ended) {
      this.writer.stop();
      return;
    }
    if (direct === undefined && this.direct) this.#headFallback();
    if (direct !== undefined) {
      // The worker wrote the body and has stopped touching the socket.
      this.writer.stop();
      this.ended = true;
      if (direct === 'finished') {
        internals.endWrittenResponse(res); // the last-chunk is on the wire already
      } else if (direct === 'gone') {
        res.destroy(); // a write failed: the client is gone
      } else {
        cutShort(res); // 'open': an error text cannot carry, or an abort
      }
      return;
    }
    if (!this.headersOut && error !== undefined) {
      this.writer.stop();
      this.#sendError(error);
      return;
    }
    if (!this.headersOut) this.#sendHeaders();
    this.writer.finish();
    this.ended = true;
    // A stream that ended before it became a relay (`fallback`) has no error
    // event from the worker: the same one is encoded here.
    if (error !== undefined && tail === undefined) tail = encodeInBandError(this.options.format, error);
    if (error !== undefined && (this.options.format === 'text' || tail === undefined)) {
      // Plain text cannot carry an error: cut the body short so the client
      // sees an incomplete transfer (no terminating chunk) instead of a
      // clean end.
      cutShort(res);
      return;
    }
    // The tail ([DONE] or the error event) rides with the terminating chunk.
    if (tail !== undefined) res.end(tail);
    else res.end();
  }

  #sendHeaders(flush = true) {
    const { res } = this;
    this.headersOut = true;
    // A length set by other code would end the body early; ours is chunked.
    res.removeHeader('Content-Length');
    for (const [name, value] of streamHeaders(this.options, { keepAlive: keepAliveHeader(res) }))
      res.setHeader(name, value);
    res.writeHead(200);
    // Headers go out now, before the first token: the browser sees the
    // response start and proxies see a live stream.
    if (flush) res.flushHeaders();
  }

  #sendError(error) {
    const { res } = this;
    const answer = errorAnswer(error);
    this.ended = true;
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    for (const [name, value] of this.options.headers) res.setHeader(name, value);
    res.removeHeader('Content-Length');
    res.writeHead(answer.status);
    res.end(answer.body);
  }

  #write(bytes) {
    const { res } = this;
    const ok = res.write(bytes);
    // compression() buffers inside zlib until flushed; res.flush is its
    // sync-flush (Node's own ServerResponse has no flush method).
    if (typeof res.flush === 'function') res.flush();
    return ok;
  }

  // Writing failed in a way the stream cannot recover from (another piece of
  // code answered or ended `res` behind our back): close both ends.
  #fail(err) {
    if (this.ended || this.gone) return;
    this.ended = true;
    this.writer.stop();
    this.res.destroy();
    this.stream.abort(err);
  }

  #onClose() {
    if (this.ended || this.gone) return;
    // 'close' before we ended the response: the client went away.
    this.gone = true;
    // A resumable stream paused for this client must not wait for a
    // 'drain' that will never come.
    if (this.producer !== undefined) this.writer.release();
    else this.writer.stop();
    // Before the abort: the worker must stop writing to the socket at once
    // (an abort alone would write the error event to it).
    if (this.direct && !this.finished) binding.command(this.stream[kInfo].id, binding.Command.DETACH);
    if (this.finished) return;
    // A resumable stream goes on for its readers (store.resume); any other
    // one stops paying for tokens nobody will read.
    if (this.producer !== undefined) this.producer.clientLeft();
    else this.stream.abort(new Error('The client closed the connection before the response ended'));
  }

  #detach() {
    const { res } = this;
    res.removeListener('drain', this.onDrain);
    // 'close' stays: it is harmless after end (ended is set) and tells us
    // nothing new; the 'error' no-op stays for writes still in flight.
  }
}

module.exports = { NodeRelay };

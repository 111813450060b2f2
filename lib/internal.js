'use strict';

// Symbols shared by lib/stream.js and the relay transports in lib/server/.
module.exports = {
  /** s[kRelay](format, sink): switch the stream to downstream bytes. */
  kRelay: Symbol('llm-relay.relay'),
  /** s[kClaim](): reserve the stream for a kRelay that comes a moment later. */
  kClaim: Symbol('llm-relay.claim'),
  /** s[kPause]() / s[kResume](): backpressure from the downstream socket. */
  kPause: Symbol('llm-relay.pause'),
  kResume: Symbol('llm-relay.resume'),
  /** s[kInfo]: { provider, model, id } of the stream. */
  kInfo: Symbol('llm-relay.info'),
};

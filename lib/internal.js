'use strict';

// Symbols shared by lib/stream.js and the relay transports in lib/server/.
module.exports = {
  /** s[kRelay](format, sink): switch the stream to downstream bytes. */
  kRelay: Symbol('llm-relay.relay'),
  /** s[kReserve](): throws unless a relay may take the stream; holds it for one. */
  kReserve: Symbol('llm-relay.reserve'),
  /** s[kPause]() / s[kResume](): backpressure from the downstream socket. */
  kPause: Symbol('llm-relay.pause'),
  kResume: Symbol('llm-relay.resume'),
  /** s[kInfo]: { provider, model, id, responseId, created } of the stream. */
  kInfo: Symbol('llm-relay.info'),
};

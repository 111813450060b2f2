// llm-relay/client: the browser side of llm-relay. Plain ES modules with no
// dependencies and no native code, so a page can load them without a
// bundler (see the README's "Recipes").
//
//   readStream(response, { signal, only })  the `sse` format of pipe() / toResponse()
//   readWebSocket(ws, { request, signal })  the messages of s.pipeWebSocket(ws)
//   RelayError                              what both throw

export { RelayError } from './errors.mjs';
export { readStream } from './read-stream.mjs';
export { readWebSocket } from './websocket.mjs';

// Type definitions for llm-relay/testing: a scripted mock LLM provider for tests, demos and examples.
//
//   const { startMockProvider } = require('llm-relay/testing');
//   const mock = await startMockProvider({ script: { tokens: 'Hello world' } });
//   const s = stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'test', body: {...} });
//   ...
//   await mock.close();

/// <reference types="node" />

/** Wire formats the mock speaks. `openai-completions` is OpenAI's legacy /v1/completions. */
export type MockProviderName =
  | 'openai'
  | 'openai-completions'
  | 'openai-responses'
  | 'anthropic'
  | 'gemini'
  | 'ollama'
  | 'sse';

export interface MockToolCall {
  /**
   * The call id. Default: a random `call_…` (OpenAI, Responses call_id) or `toolu_…` (Anthropic).
   * Gemini and Ollama send an id only when one is given here.
   */
  id?: string;
  /** The function name. */
  name: string;
  /**
   * The arguments as JSON text (default '{}'), an object (serialized with JSON.stringify), or an
   * array of string fragments to stream exactly as given. A string is split into several fragments on
   * code-point boundaries. OpenAI streams the fragments by `index`, Anthropic as `input_json_delta`,
   * Responses as `response.function_call_arguments.delta`; Gemini and Ollama send the whole parsed
   * object at once, so there the text must be valid JSON (Ollama sorts its keys, as Go does).
   */
  arguments?: string | string[] | Record<string, unknown>;
}

export interface MockMidStreamError {
  /** Content events sent before the error. Default: all of them (the error replaces the finish). */
  after?: number;
  /**
   * Provider error type: OpenAI `error.type` (default 'server_error'), Anthropic `error.type`
   * (default 'overloaded_error'), Responses `code` (default 'server_error'), Gemini `status`
   * (default 'INTERNAL'); ignored by Ollama, whose error is a bare string.
   */
  type?: string;
  /** Error message. Default: the provider's usual text ('Overloaded' for Anthropic). */
  message?: string;
  /** OpenAI `error.code` (default null), Responses `code`, Gemini numeric `code` (default from the status). */
  code?: string | number | null;
  /** Responses only: 'error' (default) sends the stream-level `error` event, 'response.failed' a failed response. */
  event?: 'error' | 'response.failed';
}

/**
 * What the mock does for one request. Every field is optional; `{}` streams the default answer
 * 'Hello from the mock provider.' as tokens in the request's format.
 *
 * "Content events" are the events that carry text, reasoning or a tool-call argument fragment (one
 * per token or fragment); opening events (role chunk, message_start, response.created, …) and
 * structural events (content_block_start/stop, output_item.added/done, …) are not counted. For `raw`
 * and `fixture` bodies every event counts: an SSE body is split after each blank line, an NDJSON
 * body after each newline.
 */
export interface MockScenario {
  /** Wire format for this request, overriding the `provider` option and the request path. */
  provider?: MockProviderName;
  /** Text tokens. A string is split into word-ish tokens keeping spaces: 'Hello world' → ['Hello', ' world']. */
  tokens?: string | string[];
  /**
   * Reasoning tokens, sent before the text: OpenAI `delta.reasoning_content` (as DeepSeek/vLLM send
   * it), Responses reasoning summary deltas, Anthropic `thinking_delta`, Gemini `thought: true`
   * parts, Ollama `thinking`, SSE `event: reasoning`.
   */
  reasoning?: string | string[];
  /** Tool calls, sent after the text. */
  toolCalls?: MockToolCall[];
  /**
   * Provider-native finish value. Defaults: OpenAI 'stop' ('tool_calls' with tool calls), Anthropic
   * 'end_turn' ('tool_use'), Gemini 'STOP', Ollama 'stop'. Responses accepts 'completed' (default),
   * 'incomplete' / 'max_output_tokens' / 'content_filter' (→ response.incomplete) and 'failed'
   * (→ response.failed).
   */
  finishReason?: string;
  /**
   * Reported usage. Defaults: inputTokens 10; outputTokens = text tokens + reasoning tokens + tool-call
   * fragments (at least one per call).
   */
  usage?: { inputTokens?: number; outputTokens?: number };
  /** Model echoed in the stream. Default: the Gemini path's model, else the request body's `model`, else a provider default. */
  model?: string;
  /** Milliseconds between the response headers (sent at once) and the first write. Default 0. */
  ttftMs?: number;
  /** Milliseconds between writes. With the default one write per event, that is between events. Default 0. */
  delayMs?: number;
  /** Split the body into writes of this many bytes (1 = one-byte writes), ignoring event boundaries. */
  chunkSize?: number;
  /** Split the body into writes of seeded random sizes from 1 to 32 bytes; the same seed gives the same split. */
  randomChunks?: number;
  /** Write this many events per write. Default: one event per write. */
  eventsPerWrite?: number;
  /**
   * After this many content events, stop sending but keep the response open until the client or
   * `mock.close()` ends it. The finish and end marker are never sent.
   */
  stallAfter?: number;
  /**
   * When no bytes were written for this many milliseconds, send a keep-alive at the next event
   * boundary: ': ping' comments for openai, openai-responses, gemini (CRLF) and sse; `event: ping`
   * for anthropic. Works while stalled, during ttftMs and between delayed events. Ollama has no
   * keep-alive (NDJSON has no comments), so it sends nothing.
   */
  pingEveryMs?: number;
  /**
   * After this many content events, reset the connection: a TCP RST (HTTP/1.1, plain or TLS), or
   * RST_STREAM with INTERNAL_ERROR on HTTP/2.
   */
  resetAfter?: number;
  /**
   * HTTP status (default 200). A status of 300 or more answers at once (after ttftMs) with `errorBody`
   * or the provider's error body for that status: OpenAI {"error":{message,type,param,code}} (429 →
   * rate_limit_exceeded), Anthropic {"type":"error","error":{type,message},"request_id"} (529 →
   * overloaded_error), Gemini {"error":{code,message,status}} (429 → RESOURCE_EXHAUSTED with a
   * RetryInfo detail from `retry-after`), Ollama {"error":"…"}. With `raw` or `fixture` it is only the
   * status line for those bytes (default 200, or the fixture's own status).
   */
  status?: number;
  /** Extra response headers, e.g. { 'retry-after': '1' }. They override the format's headers. */
  headers?: Record<string, string | number | string[]>;
  /** Body for a status of 300 or more: a string sent as is, or an object sent as JSON. */
  errorBody?: string | object;
  /**
   * After `after` content events, send the provider's own mid-stream error and end the response
   * without an end marker: OpenAI `data: {"error":{…}}`, Anthropic `event: error`, Responses `error`
   * event (or response.failed), Gemini `data: {"error": {…}}`, Ollama `{"error":"…"}`, SSE `event: error`.
   * `true` uses every default.
   */
  midStreamError?: true | MockMidStreamError;
  /**
   * End the body cleanly without the terminal signal: no `data: [DONE]` (OpenAI), no message_stop
   * (Anthropic), no response.completed (Responses), no done:true line (Ollama), no finishReason
   * (Gemini). The finish chunk / message_delta are still sent where the format has them.
   */
  omitEndMarker?: boolean;
  /** Send exactly these bytes as the body, still honouring chunkSize, randomChunks, eventsPerWrite and delays. */
  raw?: Buffer | Uint8Array | string;
  /** Content type for `raw` or an error body. Default: the format's stream content type. */
  contentType?: string;
  /**
   * Replay a recorded fixture: the entry of this name in <fixturesDir>/manifest.json
   * ({name, provider, file, status, contentType, headers, path, expected}), with its status, content
   * type and headers. Splitting, delays, stalls, resets and mid-stream errors apply to it as to `raw`.
   */
  fixture?: string;
  /** Accept the request and never answer (no headers), until the client or mock.close() ends it. */
  hang?: boolean;
}

export interface MockRequest {
  /** 0-based arrival index, the request's position in `mock.requests`. */
  n: number;
  method: string;
  /** The request target as received: path and query string. */
  path: string;
  /** Request headers, lower-cased (HTTP/2 requests include the pseudo-headers). */
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON, else the raw text; undefined when empty. */
  body: unknown;
  /** '1.1' or '2.0'. */
  httpVersion: string;
  /** The wire format the mock answered with (known once the scenario is resolved). */
  provider: MockProviderName | undefined;
  /** ms timestamp when the request arrived. */
  startedAt: number;
  /** ms timestamp when its response/stream closed; undefined while open. */
  closedAt: number | undefined;
  /** True if the client closed the connection or stream before the mock finished its response. */
  endedByClient: boolean;
  /**
   * True once the mock has sent its whole response and ended it (also for error statuses and
   * mid-stream errors); false for stalls, resets, hangs and responses the client left early.
   */
  completed: boolean;
  /** Resolves when the request's response or HTTP/2 stream is closed, for whatever reason. */
  closed: Promise<void>;
  /** Why the mock answered 500 (an invalid scenario, a missing fixture), if it did. */
  error: string | undefined;
}

export interface MockProviderOptions {
  /**
   * Wire format for every request. Without it the format follows the request path:
   * /v1/chat/completions → openai, /v1/completions → openai-completions, /v1/responses →
   * openai-responses, /v1/messages → anthropic, /v1beta/models/{model}:streamGenerateContent →
   * gemini, /api/chat and /api/generate → ollama, anything else → sse. Paths are matched on their
   * ending, so a prefix (e.g. /openai/v1/chat/completions) works too.
   */
  provider?: MockProviderName;
  /**
   * One scenario for every request, an array consumed one per request (the last one repeats), or a
   * function called per request with its record and 0-based index (it may be async).
   * Static scenarios are validated at start; a function's result is validated per request (an invalid
   * one is answered with 500 and recorded in `request.error`).
   */
  script?: MockScenario | MockScenario[] | ((request: MockRequest, n: number) => MockScenario | Promise<MockScenario>);
  /**
   * false (default): plain TCP. true: HTTPS with a certificate for localhost / 127.0.0.1 / ::1 signed
   * by a throwaway CA made with the `openssl` command once per process (`mock.ca` holds its PEM).
   * Or your own { key, cert, ca? } (PEM).
   */
  tls?: boolean | { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /**
   * Serve HTTP/2 (default false). With tls, ALPN negotiates h2 and HTTP/1.1 clients still work; without
   * tls the server speaks h2c with prior knowledge only (HTTP/1.1 clients fail).
   */
  http2?: boolean;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port. Default 0 (a free port). */
  port?: number;
  /** Directory holding manifest.json and the fixture files. Default: this package's test/fixtures. */
  fixturesDir?: string;
}

export declare class MockProvider {
  private constructor();
  /** `baseURL(provider)` when the `provider` option was given, otherwise `origin`. */
  readonly url: string;
  /** 'http://127.0.0.1:PORT' or 'https://…': scheme, host and port, no path. */
  readonly origin: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate when `tls` is used (undefined otherwise). */
  readonly ca: string | undefined;
  /** Every request received (its body read), in arrival order. */
  readonly requests: MockRequest[];
  /**
   * The base URL to give `provider`'s client, matching llm-relay's own defaults: openai,
   * openai-responses and openai-completions → origin + '/v1' (client adds /chat/completions,
   * /responses, /completions); anthropic → origin (client adds /v1/messages); gemini → origin +
   * '/v1beta' (client adds /models/{model}:streamGenerateContent?alt=sse); ollama → origin (client
   * adds /api/chat); sse → origin. Without an argument: the `provider` option, else the origin.
   */
  baseURL(provider?: MockProviderName): string;
  /**
   * The full streaming URL for `provider` (default: the `provider` option, else 'sse', whose endpoint
   * is origin + '/sse'). `model` is used by gemini only (default 'gemini-2.5-flash').
   */
  endpoint(provider?: MockProviderName, model?: string): string;
  /** Resolves with `requests` once at least `n` requests arrived; rejects after `timeoutMs` (default 5000) or on close. */
  waitForRequests(n: number, timeoutMs?: number): Promise<MockRequest[]>;
  /**
   * Stops listening, ends every scripted response (stalls and hangs included), destroys every open
   * connection and clears every timer. Always finishes; calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Starts a mock provider on a local port. */
export declare function startMockProvider(options?: MockProviderOptions): Promise<MockProvider>;

/** The tokenizer used for string `tokens`: 'Hello world' → ['Hello', ' world']. */
export declare function splitTokens(text: string): string[];

/** The per-process test CA and localhost server certificate (PEM) that `tls: true` uses. */
export declare function getTestCertificates(): Promise<{ ca: string; key: string; cert: string }>;

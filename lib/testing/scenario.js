'use strict';

// Scenario validation and normalization. A typo in a test script ("stallafter") must fail loudly,
// not silently produce a happy stream, so unknown keys and wrong types throw a TypeError that names
// the key, what was expected and what arrived.

const { validateHeaderName, validateHeaderValue } = require('node:http');

const DEFAULT_TEXT = 'Hello from the mock provider.';
const DEFAULT_INPUT_TOKENS = 10;
const PROVIDERS = ['openai', 'openai-completions', 'openai-responses', 'anthropic', 'gemini', 'ollama', 'sse'];

const SCENARIO_KEYS = new Set([
  'provider',
  'tokens',
  'reasoning',
  'toolCalls',
  'finishReason',
  'usage',
  'model',
  'ttftMs',
  'delayMs',
  'chunkSize',
  'randomChunks',
  'eventsPerWrite',
  'stallAfter',
  'pingEveryMs',
  'resetAfter',
  'status',
  'headers',
  'errorBody',
  'midStreamError',
  'omitEndMarker',
  'raw',
  'contentType',
  'fixture',
  'hang',
]);

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(where, key, expected, value) {
  throw new TypeError(`${where}: expected ${expected} for ${key} but received ${describe(value)}`);
}

function nonNegativeInteger(where, key, value) {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) fail(where, key, 'a non-negative integer', value);
  return value;
}

function positiveInteger(where, key, value) {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) fail(where, key, 'a positive integer', value);
  return value;
}

function nonNegativeNumber(where, key, value) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(where, key, 'a non-negative number of milliseconds', value);
  }
  return value;
}

function optionalString(where, key, value) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(where, key, 'a string', value);
  return value;
}

/**
 * Splits text into word-ish tokens the way a tokenizer's output reads: leading whitespace sticks to
 * the following word, so 'Hello world' gives ['Hello', ' world'] and trailing whitespace is a token
 * of its own. Joining the tokens always gives back the input.
 * @param {string} text
 * @returns {string[]}
 */
function splitTokens(text) {
  return text.match(/\s*\S+|\s+/g) || [];
}

function tokenList(where, key, value, fallback) {
  if (value === undefined) return fallback;
  if (typeof value === 'string') return splitTokens(value);
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return value.slice();
  return fail(where, key, 'a string or an array of strings', value);
}

/**
 * Splits a tool call's argument text into fragments the way OpenAI streams them: several pieces,
 * split on code points so a fragment never holds half of a surrogate pair (which would serialize
 * as a lone `\ud83d` escape that no UTF-8 decoder can represent).
 */
function splitArguments(text) {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const count = Math.min(points.length, Math.max(2, Math.ceil(points.length / 8)));
  const size = Math.ceil(points.length / count);
  const out = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

function normalizeToolCalls(where, value) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(where, 'toolCalls', 'an array of {id?, name, arguments}', value);
  return value.map((call, i) => {
    const at = `toolCalls[${i}]`;
    if (call === null || typeof call !== 'object' || Array.isArray(call)) fail(where, at, 'an object', call);
    for (const key of Object.keys(call)) {
      if (key !== 'id' && key !== 'name' && key !== 'arguments') {
        throw new TypeError(`${where}: unknown key ${at}.${key}; expected id, name, arguments`);
      }
    }
    if (typeof call.name !== 'string' || call.name === '') fail(where, `${at}.name`, 'a non-empty string', call.name);
    const id = optionalString(where, `${at}.id`, call.id);
    let args = call.arguments === undefined ? '{}' : call.arguments;
    let fragments;
    if (Array.isArray(args) && args.every((f) => typeof f === 'string')) {
      fragments = args.slice();
      args = fragments.join('');
    } else if (typeof args === 'string') {
      fragments = splitArguments(args);
    } else if (args !== null && typeof args === 'object') {
      args = JSON.stringify(args);
      fragments = splitArguments(args);
    } else {
      fail(where, `${at}.arguments`, 'a JSON string, an array of string fragments or an object', args);
    }
    return { id, name: call.name, arguments: args, fragments };
  });
}

function normalizeHeaders(where, value) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, 'headers', 'an object', value);
  const out = {};
  for (const [name, header] of Object.entries(value)) {
    if (typeof header !== 'string' && typeof header !== 'number' && !Array.isArray(header)) {
      fail(where, `headers[${JSON.stringify(name)}]`, 'a string, number or array of strings', header);
    }
    const value = Array.isArray(header) ? header.map(String) : String(header);
    try {
      validateHeaderName(name);
      for (const v of [].concat(value)) validateHeaderValue(name, v);
    } catch (err) {
      throw new TypeError(`${where}: invalid header ${JSON.stringify(name)}: ${err.message}`);
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}

function normalizeMidStreamError(where, value) {
  if (value === undefined) return undefined;
  if (value === true) return { after: undefined };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(where, 'midStreamError', 'true or an object {after?, type?, message?, code?, event?}', value);
  }
  for (const key of Object.keys(value)) {
    if (!['after', 'type', 'message', 'code', 'event'].includes(key)) {
      throw new TypeError(`${where}: unknown key midStreamError.${key}; expected after, type, message, code, event`);
    }
  }
  if (value.event !== undefined && value.event !== 'error' && value.event !== 'response.failed') {
    fail(where, 'midStreamError.event', "'error' or 'response.failed'", value.event);
  }
  return {
    after: nonNegativeInteger(where, 'midStreamError.after', value.after),
    type: optionalString(where, 'midStreamError.type', value.type),
    message: optionalString(where, 'midStreamError.message', value.message),
    code: value.code === undefined ? undefined : value.code,
    event: value.event,
  };
}

/**
 * Validates one scenario and returns a normalized copy. Throws TypeError on unknown keys,
 * wrong types and contradictory combinations.
 * @param {object|undefined} input
 * @param {string} [where] names the scenario in messages, e.g. 'script[2]'
 */
function normalizeScenario(input, where = 'scenario') {
  const s = input === undefined || input === null ? {} : input;
  if (typeof s !== 'object' || Array.isArray(s)) fail('startMockProvider', where, 'a scenario object', s);
  for (const key of Object.keys(s)) {
    if (!SCENARIO_KEYS.has(key)) {
      throw new TypeError(
        `${where}: unknown scenario key ${JSON.stringify(key)}; expected one of ${[...SCENARIO_KEYS].join(', ')}`,
      );
    }
  }
  if (s.provider !== undefined && !PROVIDERS.includes(s.provider)) {
    fail(where, 'provider', `one of ${PROVIDERS.join(', ')}`, s.provider);
  }

  const toolCalls = normalizeToolCalls(where, s.toolCalls);
  const reasoning = tokenList(where, 'reasoning', s.reasoning, []);
  const defaultTokens = toolCalls.length > 0 || reasoning.length > 0 ? [] : splitTokens(DEFAULT_TEXT);
  const tokens = tokenList(where, 'tokens', s.tokens, defaultTokens);

  let usage = {};
  if (s.usage !== undefined) {
    if (s.usage === null || typeof s.usage !== 'object' || Array.isArray(s.usage))
      fail(where, 'usage', 'an object {inputTokens?, outputTokens?}', s.usage);
    for (const key of Object.keys(s.usage)) {
      if (key !== 'inputTokens' && key !== 'outputTokens') {
        throw new TypeError(`${where}: unknown key usage.${key}; expected inputTokens, outputTokens`);
      }
    }
    usage = {
      inputTokens: nonNegativeInteger(where, 'usage.inputTokens', s.usage.inputTokens),
      outputTokens: nonNegativeInteger(where, 'usage.outputTokens', s.usage.outputTokens),
    };
  }
  const outputDefault =
    tokens.length + reasoning.length + toolCalls.reduce((sum, c) => sum + Math.max(1, c.fragments.length), 0);

  const { status } = s;
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) {
    fail(where, 'status', 'an HTTP status between 200 and 599', status);
  }

  let raw;
  if (s.raw !== undefined) {
    if (typeof s.raw === 'string') raw = Buffer.from(s.raw, 'utf8');
    else if (Buffer.isBuffer(s.raw) || s.raw instanceof Uint8Array) raw = Buffer.from(s.raw);
    else fail(where, 'raw', 'a Buffer, Uint8Array or string', s.raw);
  }
  if (
    s.errorBody !== undefined &&
    typeof s.errorBody !== 'string' &&
    (s.errorBody === null || typeof s.errorBody !== 'object')
  ) {
    fail(where, 'errorBody', 'a string or a JSON-serializable object', s.errorBody);
  }
  if (s.randomChunks !== undefined && (!Number.isInteger(s.randomChunks) || s.randomChunks < 0)) {
    fail(where, 'randomChunks', 'a non-negative integer seed', s.randomChunks);
  }

  const out = {
    provider: s.provider,
    tokens,
    reasoning,
    toolCalls,
    finishReason: optionalString(where, 'finishReason', s.finishReason),
    usage: {
      inputTokens: usage.inputTokens === undefined ? DEFAULT_INPUT_TOKENS : usage.inputTokens,
      outputTokens: usage.outputTokens === undefined ? outputDefault : usage.outputTokens,
    },
    model: optionalString(where, 'model', s.model),
    ttftMs: nonNegativeNumber(where, 'ttftMs', s.ttftMs) || 0,
    delayMs: nonNegativeNumber(where, 'delayMs', s.delayMs) || 0,
    chunkSize: positiveInteger(where, 'chunkSize', s.chunkSize),
    randomChunks: s.randomChunks,
    eventsPerWrite: positiveInteger(where, 'eventsPerWrite', s.eventsPerWrite),
    stallAfter: nonNegativeInteger(where, 'stallAfter', s.stallAfter),
    pingEveryMs: s.pingEveryMs === undefined ? undefined : positiveNumber(where, 'pingEveryMs', s.pingEveryMs),
    resetAfter: nonNegativeInteger(where, 'resetAfter', s.resetAfter),
    status,
    headers: normalizeHeaders(where, s.headers),
    errorBody: s.errorBody,
    midStreamError: normalizeMidStreamError(where, s.midStreamError),
    omitEndMarker: Boolean(s.omitEndMarker),
    raw,
    contentType: optionalString(where, 'contentType', s.contentType),
    fixture: optionalString(where, 'fixture', s.fixture),
    hang: Boolean(s.hang),
  };

  const splitters = ['chunkSize', 'randomChunks', 'eventsPerWrite'].filter((k) => out[k] !== undefined);
  if (splitters.length > 1)
    throw new TypeError(
      `${where}: use only one of chunkSize, randomChunks, eventsPerWrite (received ${splitters.join(' and ')})`,
    );
  const cuts = ['stallAfter', 'resetAfter', 'midStreamError'].filter((k) => out[k] !== undefined);
  if (cuts.length > 1)
    throw new TypeError(
      `${where}: use only one of stallAfter, resetAfter, midStreamError (received ${cuts.join(' and ')})`,
    );
  if (out.raw !== undefined && out.fixture !== undefined) throw new TypeError(`${where}: use raw or fixture, not both`);
  return Object.freeze(out);
}

function positiveNumber(where, key, value) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    fail(where, key, 'a positive number of milliseconds', value);
  return value;
}

/**
 * Where the stream is cut short, if anywhere: `{ after, action }` with action 'stall' | 'reset' | 'error',
 * or undefined for a complete stream. `after` undefined means "after every content event".
 */
function cutOf(scenario) {
  if (scenario.stallAfter !== undefined) return { after: scenario.stallAfter, action: 'stall' };
  if (scenario.resetAfter !== undefined) return { after: scenario.resetAfter, action: 'reset' };
  if (scenario.midStreamError !== undefined) return { after: scenario.midStreamError.after, action: 'error' };
  return undefined;
}

module.exports = {
  normalizeScenario,
  splitTokens,
  splitArguments,
  cutOf,
  PROVIDERS,
  DEFAULT_TEXT,
  DEFAULT_INPUT_TOKENS,
};

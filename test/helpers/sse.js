'use strict';

// Light parsers for test assertions: an SSE parser following the WHATWG rules that matter to the
// provider streams (CRLF / LF / CR line ends, comments, event/data fields, one leading space removed,
// data lines joined with \n, no dispatch without data, an unterminated last event discarded) and an
// NDJSON splitter.

/**
 * @param {string} text a whole SSE body
 * @returns {{events: {event: string, data: string}[], comments: string[]}}
 */
function parseSse(text) {
  const events = [];
  const comments = [];
  let data = [];
  let event = '';
  const lines = text.split(/\r\n|\r|\n/);
  // The last element is whatever followed the final line terminator: an unterminated line.
  lines.pop();
  for (const line of lines) {
    if (line === '') {
      if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) {
      comments.push(line.slice(1).replace(/^ /, ''));
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
  }
  return { events, comments };
}

/** JSON payloads of the SSE events, skipping OpenAI's literal [DONE]. */
function sseJson(text) {
  return parseSse(text)
    .events.filter((e) => e.data !== '[DONE]')
    .map((e) => ({ event: e.event, json: JSON.parse(e.data) }));
}

/**
 * @param {string} text an NDJSON body
 * @returns {object[]} parsed lines; throws if the body does not end with '\n'
 */
function parseNdjson(text) {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('NDJSON body does not end with a newline');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

module.exports = { parseSse, sseJson, parseNdjson };

'use strict';

// SSE event spelling shared by the SSE-based formats (WHATWG HTML §9.2.6).

/**
 * One SSE event. Each line of `data` becomes its own `data:` line, because a raw newline inside a
 * data field would end the field early; the receiver joins them back with '\n'.
 * @param {string} data
 * @param {{event?: string, eol?: string}} [opts] eol '\n' (default) or '\r\n' (Google frontends)
 */
function sseEvent(data, { event, eol = '\n' } = {}) {
  let out = event === undefined ? '' : `event: ${event}${eol}`;
  for (const line of String(data).split(/\r\n|\r|\n/)) out += `data: ${line}${eol}`;
  return out + eol;
}

/** A comment line: every SSE client ignores it, so it is the keep-alive of OpenRouter and DeepSeek. */
function sseComment(text, eol = '\n') {
  return `: ${text}${eol}${eol}`;
}

module.exports = { sseEvent, sseComment };

'use strict';

// Keeps credentials out of what errors and diagnostics records carry. The
// worker redacts what it builds (the error record, the provider's error body
// and headers, the in-band error event) with the list secretsOf() makes here,
// once per stream; JavaScript redacts the strings it builds itself (the URL
// of the `llm-relay:stream:start` record).

const REDACTED = '[redacted]';

// Header names whose values are credentials: Authorization, x-api-key,
// x-goog-api-key, api-key (Azure), Proxy-Authorization, cookies, and the
// custom names gateways use (x-portkey-api-key, helicone-auth, ...).
const SECRET_HEADER = /auth|key|token|secret|passw|cookie/i;

// Shorter values are no credential any provider issues, and replacing them
// everywhere would mangle messages (a test key 'k' would eat every 'k').
const MIN_SECRET_LENGTH = 8;

/** `key=` query values and `user:pass@` replaced, also in a string that is no valid URL. */
function redactURL(url) {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${REDACTED}@`)
    .replace(/([?&](?:api[-_]?)?key=)[^&#]*/gi, `$1${REDACTED}`);
}

function add(out, value) {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  out.add(value);
  // The forms a provider may echo it in: JSON-escaped (a body), with '/'
  // escaped as '\/' (some JSON writers), percent-encoded (a URL).
  out.add(JSON.stringify(value).slice(1, -1));
  out.add(JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/'));
  out.add(encodeURIComponent(value));
}

/**
 * The secrets of one stream, longest first: the API key, the values of
 * credential headers (and their token after an auth scheme such as
 * "Bearer"), and `key=` query values of the URL.
 * @param {string|undefined} apiKey
 * @param {string[]} headerLines "Name: value" lines sent upstream
 * @param {string} url
 * @returns {string[]}
 */
function secretsOf(apiKey, headerLines, url) {
  const out = new Set();
  add(out, apiKey);
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (!SECRET_HEADER.test(line.slice(0, colon))) continue;
    const value = line.slice(colon + 1).trim();
    add(out, value);
    const space = value.indexOf(' ');
    if (space > 0) add(out, value.slice(space + 1).trim());
  }
  const query = url.indexOf('?');
  if (query >= 0) {
    for (const [name, value] of new URLSearchParams(url.slice(query + 1).split('#')[0])) {
      if (/^(?:api[-_]?)?key$/i.test(name) || SECRET_HEADER.test(name)) {
        add(out, value);
        // As written in the URL, before URLSearchParams decoded it.
        const literal = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const raw = new RegExp(`[?&]${literal}=([^&#]*)`).exec(url);
        if (raw) add(out, raw[1]);
      }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by "[redacted]". */
function redact(text, secrets) {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

module.exports = { redactURL, secretsOf, redact, REDACTED, MIN_SECRET_LENGTH };

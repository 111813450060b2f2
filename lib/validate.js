'use strict';

// Small validation helpers shared by stream() options and the relays.

const { invalidArgument } = require('./errors');

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may not hold CR, LF or NUL (RFC 9110 §5.5): they would split
// or end the header block.
const BAD_VALUE = /[\r\n\0]/;

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Extra response headers as [name, value] pairs; a value may be an array (repeated header). */
function checkHeaders(headers, name) {
  if (headers === undefined) return [];
  let entries;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) entries = [...headers.entries()];
  else if (isPlainObject(headers)) entries = Object.entries(headers);
  else throw invalidArgument(`Expected an object or Headers for ${name} but received ${describe(headers)}`);
  const out = [];
  for (const [key, value] of entries) {
    if (value === undefined || value === null) continue;
    if (!HEADER_NAME.test(key)) {
      throw invalidArgument(`Expected a valid header name in ${name} but received ${JSON.stringify(key)}`);
    }
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw invalidArgument(`Expected a string or number for ${name}.${key} but received ${describe(v)}`);
      }
      if (BAD_VALUE.test(String(v))) throw invalidArgument(`Header ${name}.${key} contains a line break or NUL`);
    }
    out.push([key, Array.isArray(value) ? value.map(String) : String(value)]);
  }
  return out;
}

module.exports = { describe, isPlainObject, checkHeaders };

'use strict';

// Small validation helpers shared by stream() options and the relays.

const { invalidArgument } = require('./errors');

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may not hold CR, LF or NUL (RFC 9110 §5.5): they would split
// or end the header block.
const BREAK = /[\r\n\0]/;
// Nor other controls (HTAB aside), nor characters that are not one byte:
// curl would send them raw and Node's setHeader() throws a bare TypeError.
const BAD_CHAR = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|[^\x00-\xff]/u;

/** "U+000A": how a message names a character without carrying it. */
function codePoint(char) {
  return `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') {
    if (isPlainObject(value)) return 'an object';
    if (value instanceof Map) return 'a Map';
    const ctor = typeof value.constructor === 'function' && value.constructor.name;
    return ctor ? `an instance of ${ctor}` : 'an object';
  }
  if (typeof value === 'bigint') return `bigint ${value}n`;
  return `${typeof value} ${String(value)}`;
}

/**
 * An object literal or `Object.create(null)`, from any realm: not an array,
 * a Map, a class instance or a boxed value, whose own properties would be
 * silently ignored (Object.entries of a Map is empty) or read through
 * getters no validation sees.
 */
function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Extra headers as [name, value] pairs; a value may be an array (repeated
 * header). Accepts a plain object, a Map or a Headers. `forbidden` maps
 * lower-case names to the reason they are refused.
 */
function checkHeaders(headers, name, forbidden) {
  if (headers === undefined) return [];
  let entries;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) entries = [...headers.entries()];
  else if (headers instanceof Map) entries = [...headers.entries()];
  else if (isPlainObject(headers)) entries = Object.entries(headers);
  else throw invalidArgument(`Expected an object, Map or Headers for ${name} but received ${describe(headers)}`);
  const out = [];
  for (const [key, value] of entries) {
    if (value === undefined || value === null) continue;
    if (typeof key !== 'string' || !HEADER_NAME.test(key)) {
      throw invalidArgument(
        `Expected a valid header name in ${name} but received ${typeof key === 'string' ? JSON.stringify(key) : describe(key)}`,
      );
    }
    const why = forbidden === undefined ? undefined : forbidden.get(key.toLowerCase());
    if (why !== undefined) throw invalidArgument(`Header ${name}.${key} is not allowed: ${why}`);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw invalidArgument(`Expected a string or number for ${name}.${key} but received ${describe(v)}`);
      }
      const text = String(v);
      if (BREAK.test(text)) throw invalidArgument(`Header ${name}.${key} contains a line break or NUL`);
      const bad = BAD_CHAR.exec(text);
      if (bad !== null) {
        throw invalidArgument(
          `Header ${name}.${key} contains a control character or a character outside Latin-1 (${codePoint(bad[0])}); ` +
            'header values are bytes: percent-encode it',
        );
      }
    }
    out.push([key, Array.isArray(value) ? value.map(String) : String(value)]);
  }
  return out;
}

module.exports = { describe, isPlainObject, checkHeaders, codePoint };

'use strict';

// Serializers that reproduce each provider's own JSON spelling, byte for byte.

/**
 * Google's frontends write `"key": value` (a space after the colon) and `,` with no space
 * between members, e.g. `{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"}`
 * (docs/wire-formats.md §6). Strings and numbers are spelled as JSON.stringify spells them.
 */
function googleJson(value) {
  if (Array.isArray(value)) return `[${value.map(googleJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = [];
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}: ${googleJson(member)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

// Go's encoding/json escapes these by default (HTML safety and JavaScript line terminators).
const GO_ESCAPES = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** Sorts object keys recursively, as Go does when it marshals a map[string]any. */
function sortKeysDeep(value) {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep(value[key]);
    return out;
  }
  return value;
}

/**
 * Ollama is written in Go: compact JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped.
 * Those characters can only occur inside JSON strings, so escaping the serialized text is exact.
 */
function goJson(value) {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => GO_ESCAPES[ch]);
}

module.exports = { googleJson, goJson, sortKeysDeep };

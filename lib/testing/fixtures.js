'use strict';

// Recorded provider transcripts: test/fixtures/manifest.json lists entries
// {name, provider, file, status, contentType, headers, path, expected}. The manifest is read on every
// use (it is small) so edits show up without restarting the mock.

const fs = require('node:fs/promises');
const path = require('node:path');

const DEFAULT_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures');

const REFRAMED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding']);

const CONTENT_TYPE_BY_EXTENSION = {
  '.sse': 'text/event-stream',
  '.ndjson': 'application/x-ndjson',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

function entriesOf(manifest) {
  if (Array.isArray(manifest)) return manifest;
  if (manifest && Array.isArray(manifest.fixtures)) return manifest.fixtures;
  if (manifest && typeof manifest === 'object') {
    return Object.entries(manifest).map(([name, entry]) => ({ name, ...entry }));
  }
  return [];
}

/**
 * Loads one fixture by name.
 * @param {string} name
 * @param {string} [dir] the fixtures directory (default: this package's test/fixtures)
 * @returns {Promise<{name: string, provider?: string, bytes: Buffer, status: number, contentType: string, headers: object, path?: string}>}
 */
async function loadFixture(name, dir = DEFAULT_DIR) {
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest;
  try {
    manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`fixture ${JSON.stringify(name)}: cannot read ${manifestPath}: ${err.message}`);
  }
  const entries = entriesOf(manifest);
  const entry = entries.find((e) => e && e.name === name);
  if (!entry) {
    const known = entries.map((e) => e && e.name).filter(Boolean);
    throw new Error(
      `fixture ${JSON.stringify(name)} is not in ${manifestPath}; known fixtures: ${known.join(', ') || '(none)'}`,
    );
  }
  const file = entry.file || name;
  const bytes = await fs.readFile(path.resolve(dir, file));
  const contentType = entry.contentType || CONTENT_TYPE_BY_EXTENSION[path.extname(file)] || 'application/octet-stream';
  const headers = {};
  for (const [key, value] of Object.entries(entry.headers || {})) {
    const name = key.toLowerCase();
    // The mock frames the body itself, so recorded framing headers would contradict it.
    if (!REFRAMED.has(name)) headers[name] = String(value);
  }
  return {
    name,
    provider: entry.provider,
    bytes,
    status: Number.isInteger(entry.status) ? entry.status : 200,
    contentType,
    headers,
    path: entry.path,
  };
}

/**
 * Splits a body into frames (whole events) so that eventsPerWrite, pings and the "after n events"
 * options work on raw bytes too: SSE bodies split after each blank line (\n\n, \r\n\r\n or \r\r),
 * NDJSON after each \n, anything else is one frame.
 * @param {Buffer} bytes
 * @param {string} contentType
 * @returns {Buffer[]}
 */
function splitFrames(bytes, contentType) {
  const type = String(contentType || '').toLowerCase();
  // latin1 maps bytes 1:1 to UTF-16 code units, so string offsets are byte offsets.
  const text = bytes.toString('latin1');
  let pattern;
  if (type.includes('event-stream')) pattern = /\r\n\r\n|\n\n|\r\r(?!\n)/g;
  else if (type.includes('ndjson') || type.includes('jsonl')) pattern = /\n/g;
  else return bytes.length > 0 ? [bytes] : [];
  const frames = [];
  let start = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const end = m.index + m[0].length;
    frames.push(bytes.subarray(start, end));
    start = end;
  }
  if (start < bytes.length) frames.push(bytes.subarray(start));
  return frames;
}

module.exports = { loadFixture, splitFrames, DEFAULT_DIR };

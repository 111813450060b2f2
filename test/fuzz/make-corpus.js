'use strict';

// Writes the committed seed corpus of every fuzz target, test/fuzz/corpus/<target>/,
// from the recorded provider transcripts in test/fixtures (plus a few framing
// edge cases), in each target's input layout:
//
//   <provider>_fuzz   [mode][read sizes...][0][body]        (adapter_fuzz_driver.h)
//                     framed seeds: mode 0, the transcript (cut at an event
//                     boundary to stay small) read in 7-, 3- and 13-byte reads;
//                     direct seeds: an odd mode, one event's data (or one line)
//   sse_parser_fuzz   [stream][13][1][7][2][0][1]          (sse_parser_fuzz.cc)
//   ndjson_fuzz       [stream][13][1][7][2][0][1]          (ndjson_fuzz.cc)
//                     the trailing bytes, consumed from the end, choose the
//                     default size limit, no early stop and reads of 7, 1, 13
//
// Deterministic: run it again after changing the fixtures and commit the result.
//   node test/fuzz/make-corpus.js

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures');
const out = path.join(__dirname, 'corpus');

const MAX_FRAMED = 3072; // bytes of transcript per seed: small inputs fuzz faster
const MAX_STREAM = 2048;
const DIRECT_PER_FIXTURE = 2;
const READS = Buffer.from([7, 3, 13, 0]);
const TRAILER = Buffer.from([13, 1, 7, 2, 0, 1]);

const adapters = {
  openai_fuzz: 'openai',
  openai_responses_fuzz: 'openai-responses',
  anthropic_fuzz: 'anthropic',
  gemini_fuzz: 'gemini',
  ollama_fuzz: 'ollama',
};

// Framing edge cases the transcripts do not have (WHATWG event-stream rules).
const sseEdges = {
  'edge-crlf': 'data: a\r\ndata: b\r\n\r\nevent: x\r\ndata: c\r\n\r\n',
  'edge-cr-only': 'data: a\rdata: b\r\rid: 7\rdata: c\r\r',
  'edge-bom-comment-retry': '\uFEFF: comment\nretry: 1500\nid: 3\nevent: ping\ndata:\n\n',
  'edge-field-without-colon': 'data\n\ndata:no-space\nevent\n\n',
  'edge-id-with-nul': 'id: a\u0000b\ndata: x\n\nid\ndata: y\n\n',
  'edge-unterminated': 'data: {"choices":[{"delta":{"content":"cut',
  'edge-utf8': 'data: caf\u00e9 \u{1F600} \u65e5\u672c\n\n',
};
const ndjsonEdges = {
  'edge-crlf-blank': '{"a":1}\r\n\r\n{"b":2}\r\n   \n{"c":3}',
  'edge-no-final-newline': '{"response":"x","done":false}\n{"response":"y","done":true}',
  'edge-utf8': '{"response":"caf\u00e9 \u{1F600}"}\n',
};

/** The transcript cut after the last event (or line) boundary within `max` bytes. */
function cut(text, max, boundary) {
  const bytes = Buffer.from(text);
  if (bytes.length <= max) return bytes;
  const head = bytes.subarray(0, max).toString('latin1');
  const at = head.lastIndexOf(boundary);
  return bytes.subarray(0, at > 0 ? at + boundary.length : max);
}

/** The data of each event (or each line), first ones first. */
function payloads(text, ndjson) {
  if (ndjson) return text.split('\n').filter((line) => line.trim() !== '');
  return text
    .split(/\n\n/)
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data !== '' && data !== '[DONE]');
}

function write(target, name, bytes) {
  const dir = path.join(out, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), bytes);
}

function fixtureFiles(dir, ext) {
  return fs
    .readdirSync(dir)
    .filter((name) => ext.some((e) => name.endsWith(e)))
    .sort()
    .map((name) => ({ name: name.replace(/\.[^.]+$/, ''), text: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

fs.rmSync(out, { recursive: true, force: true });

for (const [target, provider] of Object.entries(adapters)) {
  const ndjson = provider === 'ollama';
  const streams = fixtureFiles(path.join(fixtures, provider), [ndjson ? '.ndjson' : '.sse']);
  for (const { name, text } of streams) {
    const body = cut(text, MAX_FRAMED, ndjson ? '\n' : '\n\n');
    write(target, `${name}.framed`, Buffer.concat([Buffer.from([0]), READS, body]));
    payloads(text, ndjson)
      .slice(0, DIRECT_PER_FIXTURE)
      .forEach((data, i) => {
        // Odd modes: one event; (mode / 2) % 5 picks its type ("message" for 1).
        write(target, `${name}.direct-${i}`, Buffer.concat([Buffer.from([1, 0]), Buffer.from(data)]));
      });
  }
  // Error bodies reach the adapter as one event or line too (mid-stream errors).
  for (const { name, text } of fixtureFiles(path.join(fixtures, provider), ['.json'])) {
    write(
      target,
      `${name}.direct`,
      Buffer.concat([Buffer.from([3, 0]), Buffer.from(JSON.stringify(JSON.parse(text)))]),
    );
  }
}

const sseDirs = ['openai', 'openai-responses', 'anthropic', 'gemini', 'sse'];
for (const dir of sseDirs) {
  for (const { name, text } of fixtureFiles(path.join(fixtures, dir), ['.sse'])) {
    write('sse_parser_fuzz', `${dir}-${name}`, Buffer.concat([cut(text, MAX_STREAM, '\n\n'), TRAILER]));
  }
}
for (const [name, text] of Object.entries(sseEdges)) {
  write('sse_parser_fuzz', name, Buffer.concat([Buffer.from(text), TRAILER]));
}

for (const { name, text } of fixtureFiles(path.join(fixtures, 'ollama'), ['.ndjson'])) {
  write('ndjson_fuzz', name, Buffer.concat([cut(text, MAX_STREAM, '\n'), TRAILER]));
}
for (const [name, text] of Object.entries(ndjsonEdges)) {
  write('ndjson_fuzz', name, Buffer.concat([Buffer.from(text), TRAILER]));
}

let files = 0;
let bytes = 0;
for (const target of fs.readdirSync(out)) {
  for (const name of fs.readdirSync(path.join(out, target))) {
    files += 1;
    bytes += fs.statSync(path.join(out, target, name)).size;
  }
}
console.log(`make-corpus: ${files} seeds, ${bytes} bytes in ${path.relative(root, out)}/`);

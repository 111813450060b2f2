'use strict';

// The small helpers the relay uses around a store: `resume.store` checks,
// Last-Event-ID parsing, and the error of a failed end record.

const { createMemoryStore, checkStore, checkId, parseLastEventId, terminalError } = require('../../lib/resume');
const { RelayError } = require('../../lib/errors');

test('checkStore accepts the built-in stores and names what a bad one lacks', async () => {
  const store = createMemoryStore();
  expect(checkStore(store)).toBe(store);
  expect(() => checkStore({ claim() {}, append() {} })).toThrow(/missing end, read, stop, onStop, close/);
  expect(() => checkStore(null)).toThrow(/Expected a resume store .* for resume.store but received null/);
  expect(() => checkId('a'.repeat(300), 'resume.id')).toThrow(/for resume.id/);
  await store.close();
});

test('Last-Event-ID: decimal ids become `after`; nothing means replay all; anything else is INVALID_ARGUMENT', () => {
  expect(parseLastEventId(undefined)).toBe(0);
  expect(parseLastEventId('')).toBe(0);
  expect(parseLastEventId('17')).toBe(17);
  expect(parseLastEventId(' 17 ')).toBe(17);
  expect(parseLastEventId(5)).toBe(5);
  for (const bad of ['abc', '-1', '1.5', '1e3', '9999999999999999', -3, {}]) {
    expect(() => parseLastEventId(bad)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('lastEventId') }),
    );
  }
});

test('a failed end record becomes the RelayError readers throw, with its code, status, retryAfterMs and partial', () => {
  const err = terminalError({
    ok: false,
    error: { code: 'HTTP_STATUS', message: 'openai answered HTTP 429', status: 429, retryAfterMs: 2000 },
    summary: { text: 'pa' },
  });
  expect(err).toBeInstanceOf(RelayError);
  expect(err).toMatchObject({
    code: 'HTTP_STATUS',
    status: 429,
    retryAfterMs: 2000,
    partial: { text: 'pa' },
    message: 'openai answered HTTP 429',
  });
  expect(terminalError({ ok: false, error: { code: 'ABORTED', message: 'stopped' } }).name).toBe('AbortError');
});

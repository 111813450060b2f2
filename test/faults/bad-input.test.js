'use strict';

// Bad input is refused synchronously with INVALID_ARGUMENT naming the
// option, before any byte goes upstream (issue 9, items 3, 4 and 10).

const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');
const { body, thrown, sleep } = require('./helpers');

let mock;
beforeAll(async () => {
  mock = await startMockProvider({ provider: 'openai', script: { tokens: 'fine' } });
});
afterAll(() => mock.close());

function openai(extra) {
  return stream({
    provider: 'openai',
    baseURL: mock.baseURL('openai'),
    apiKey: 'sk-test',
    body,
    retry: false,
    ...extra,
  });
}

/** Asserts INVALID_ARGUMENT matching `message`, and that no request reached the mock. */
async function refused(fn, message) {
  const before = mock.requests.length;
  const err = thrown(fn);
  expect(err).toBeInstanceOf(RelayError);
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message).toMatch(message);
  await sleep(30);
  expect(mock.requests.length).toBe(before);
  return err;
}

describe('URL strings (issue 9 item 3)', () => {
  const bad = [
    ['NUL', '\0'],
    ['CR', '\r'],
    ['LF', '\n'],
    ['TAB', '\t'],
    ['space', ' '],
    ['DEL', '\x7f'],
    ['ESC', '\x1b'],
    ['C1 control', '\x85'],
  ];

  test.each(bad)('a %s in baseURL is refused before anything is sent', async (name, char) => {
    const err = await refused(() => openai({ baseURL: `${mock.baseURL('openai')}${char}/elsewhere` }), /baseURL/);
    expect(err.message).toMatch(/control character or space/);
    expect(err.message).toContain(`U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    // The message names the character, it never carries it.
    if (char !== ' ') expect(err.message).not.toContain(char);
  });

  test.each(bad)('a %s in url is refused before anything is sent', async (name, char) => {
    await refused(
      () => openai({ baseURL: undefined, url: `${mock.baseURL('openai')}/chat/completions?x=1${char}` }),
      /Expected url to/,
    );
  });

  test('a control character in an environment base URL is refused, naming the variable', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = `${mock.baseURL('openai')}\0/x`;
    try {
      await refused(() => stream({ provider: 'openai', apiKey: 'sk-test', body, retry: false }), /OPENAI_BASE_URL/);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  test('credentials in a URL are refused without echoing them; headers or apiKey carry them', async () => {
    for (const [option, value] of [
      ['baseURL', mock.baseURL('openai').replace('://', '://alice:hunter2secret@')],
      ['url', `${mock.baseURL('openai').replace('://', '://user-only-token@')}/chat/completions`],
    ]) {
      const err = await refused(() => openai({ [option]: value }), new RegExp(`credentials .* ${option}`));
      expect(err.message).toMatch(/headers|apiKey/);
      expect(err.message).not.toMatch(/hunter2secret|user-only-token|alice/);
    }
  });
});

describe('framing headers (issue 9 item 4)', () => {
  test.each([
    ['Content-Length', '2'],
    ['content-length', '100000'],
    ['Transfer-Encoding', 'chunked'],
    ['Host', 'evil.example'],
    ['Connection', 'close'],
    ['Keep-Alive', 'timeout=5'],
    ['Upgrade', 'h2c'],
    ['TE', 'trailers'],
    ['Trailer', 'x-a'],
    ['Expect', '100-continue'],
    ['PROXY-CONNECTION', 'keep-alive'],
  ])('a request header %s is refused, naming it', async (name, value) => {
    const err = await refused(() => openai({ headers: { [name]: value } }), new RegExp(`headers\\.${name}`));
    expect(err.message).toMatch(/sets the request framing|hop-by-hop|from the URL/);
  });

  test('the same header given as a Map or Headers is refused too', async () => {
    await refused(() => openai({ headers: new Map([['Content-Length', '2']]) }), /headers\.Content-Length/);
    await refused(
      () => openai({ headers: new Headers({ 'Transfer-Encoding': 'chunked' }) }),
      /headers\.transfer-encoding/,
    );
  });

  test.each([
    ['Content-Length', '5'],
    ['Transfer-Encoding', 'gzip'],
    ['Content-Encoding', 'gzip'],
    ['Connection', 'close'],
    ['Keep-Alive', 'timeout=5'],
    ['Upgrade', 'websocket'],
    ['Trailer', 'x-a'],
  ])('toResponse() refuses a response header %s: the relay sets its own framing', (name, value) => {
    const s = openai({ url: `${mock.baseURL('openai')}/chat/completions` });
    try {
      const err = thrown(() => s.toResponse({ headers: { [name]: value } }));
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(err.message).toMatch(new RegExp(`headers\\.${name}`));
      // Nothing was consumed: the stream can still be relayed.
      expect(s.toResponse()).toBeInstanceOf(Response);
    } finally {
      s.abort();
    }
  });
});

describe('options of the wrong shape (issue 9 item 10)', () => {
  test('headers given as a Map are sent', async () => {
    const s = openai({
      headers: new Map([
        ['X-From-Map', 'yes'],
        ['X-Multi', ['a', 'b']],
      ]),
    });
    expect((await s.done).text).toBe('fine');
    const req = mock.requests[mock.requests.length - 1];
    expect(req.headers['x-from-map']).toBe('yes');
    expect(req.headers['x-multi']).toBe('a, b');
  });

  test('headers with a null prototype are sent', async () => {
    const headers = Object.assign(Object.create(null), { 'X-Null-Proto': '1' });
    await openai({ headers }).done;
    expect(mock.requests[mock.requests.length - 1].headers['x-null-proto']).toBe('1');
  });

  class Settings {
    constructor() {
      this.model = 'm';
    }
  }

  test.each([
    ['a Map', () => new Map([['model', 'm']]), /Expected body to be a plain object .* but received a Map/],
    [
      'a class instance',
      () => new Settings(),
      /Expected body to be a plain object .* but received an instance of Settings/,
    ],
    ['an array', () => [{ model: 'm' }], /Expected body to be a plain object .* but received an array/],
    ['a Date', () => new Date(0), /body .* an instance of Date/],
  ])('a body given as %s is refused', async (_, make, message) => {
    await refused(() => openai({ body: make() }), message);
  });

  test('a body with a null prototype is accepted', async () => {
    const b = Object.assign(Object.create(null), body);
    expect((await openai({ body: b }).done).text).toBe('fine');
  });

  test.each([
    ['a BigInt', () => ({ ...body, seed: 1n }), /BigInt/],
    [
      'a cycle',
      () => {
        const b = { ...body };
        b.self = b;
        return b;
      },
      /circular/,
    ],
    [
      'a throwing toJSON',
      () => ({
        ...body,
        x: {
          toJSON() {
            throw new Error('nope');
          },
        },
      }),
      /nope/,
    ],
  ])('a body holding %s is INVALID_ARGUMENT naming body, not a bare TypeError', async (_, make, detail) => {
    const err = await refused(
      () => openai({ body: make() }),
      /^Expected body to be serializable as JSON but JSON\.stringify failed: /,
    );
    expect(err.message).toMatch(detail);
    expect(err.cause).toBeInstanceOf(Error);
  });

  test.each([
    ['timeouts', new Map([['idleMs', 5]])],
    ['timeouts', new Settings()],
    ['retry', new Map()],
    ['tls', new Map([['rejectUnauthorized', false]])],
  ])('%s given as a non-plain object is refused instead of ignored', async (option, value) => {
    await refused(() => openai({ [option]: value }), new RegExp(`Expected ${option} to be .*object`));
  });

  test('the options argument itself must be a plain object', async () => {
    await refused(() => stream(new Map([['provider', 'openai']])), /Expected an options object but received a Map/);
  });

  test('header names must be strings and values visible characters', async () => {
    await refused(() => openai({ headers: new Map([[1, 'x']]) }), /header name in headers but received number 1/);
    await refused(() => openai({ headers: { 'X-Ctl': 'a\x01b' } }), /headers\.X-Ctl contains a control character/);
  });

  test('relay options and their headers follow the same rules', () => {
    const s = openai({});
    try {
      expect(thrown(() => s.toResponse(new Map([['format', 'text']]))).message).toMatch(
        /Expected an object for the toResponse\(\) options but received a Map/,
      );
      const res = s.toResponse({ headers: new Map([['X-Relay', 'map']]) });
      expect(res.headers.get('x-relay')).toBe('map');
    } finally {
      s.abort();
    }
  });
});

'use strict';

// The built-in Redis client's pieces without Redis: the reply parser over
// every chunking, the command writer, and the connection against fake
// servers that misbehave (silent peers, closed sockets).

const net = require('node:net');
const { RespParser, ReplyError } = require('../../lib/resume/resp');
const { RespWriter } = require('../../lib/resume/resp-writer');
const { RespConnection, parseRedisUrl } = require('../../lib/resume/redis-connection');
const { until } = require('./helpers');

const WIRE = Buffer.from(
  '+OK\r\n:42\r\n:-7\r\n$6\r\nhé\r\nx\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n-ERR bad thing\r\n' +
    `*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\nc\r\n$1\r\n2\r\n$1\r\nd\r\n$${Buffer.byteLength('{"t":"€,"},')}\r\n{"t":"€,"},\r\n*0\r\n` +
    `$3000\r\n${'ab'.repeat(1500)}\r\n`,
);
const EXPECTED = [
  'OK',
  42,
  -7,
  'hé\r\nx',
  '',
  null,
  null,
  [],
  new ReplyError('ERR bad thing'),
  [['1-0', ['c', '2', 'd', '{"t":"€,"},']], []],
  'ab'.repeat(1500),
];

function parseChunked(sizes) {
  const out = [];
  const parser = new RespParser((v) => out.push(v));
  let pos = 0;
  let k = 0;
  while (pos < WIRE.length) {
    const n = sizes[k++ % sizes.length];
    parser.feed(WIRE.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

test('the reply parser gives the same replies whatever the chunking: whole, 1-byte, random, split inside UTF-8', () => {
  expect(parseChunked([WIRE.length])).toEqual(EXPECTED);
  expect(parseChunked([1])).toEqual(EXPECTED);
  expect(parseChunked([2, 3, 5, 7])).toEqual(EXPECTED);
  let seed = 7;
  for (let round = 0; round < 50; round++) {
    const sizes = Array.from({ length: 20 }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return 1 + (seed % 97);
    });
    expect(parseChunked(sizes)).toEqual(EXPECTED);
  }
  const errors = parseChunked([1]).filter((v) => v instanceof ReplyError);
  expect(errors[0].message).toBe('ERR bad thing');
});

test('the reply parser skips decoding a top-level bulk string nobody wants, and only that', () => {
  const out = [];
  let skip = true;
  const parser = new RespParser(
    (v) => out.push(v),
    () => skip,
  );
  parser.feed(Buffer.from('$3\r\n1-0\r\n*1\r\n$1\r\na\r\n'));
  skip = false;
  parser.feed(Buffer.from('$3\r\n2-0\r\n'));
  expect(out).toEqual([undefined, ['a'], '2-0']);
});

test('the command writer encodes strings by UTF-8 length, numbers and bytes', () => {
  const w = new RespWriter();
  w.command(['SET', 'k€', 12, Buffer.from([0, 255])]);
  w.ensure(64);
  w.bulkStreamId(1234567);
  w.char(99);
  w.bulkInt(0);
  w.bulk('é');
  const out = w.take();
  expect(out.toString('latin1')).toBe(
    Buffer.from('*4\r\n$3\r\nSET\r\n$4\r\nk€\r\n$2\r\n12\r\n$2\r\n').toString('latin1') +
      '\u0000\u00ff\r\n$9\r\n1234567-0\r\n$1\r\nc\r\n$1\r\n0\r\n' +
      Buffer.from('$2\r\né\r\n').toString('latin1'),
  );
  expect(w.take()).toBeNull();
});

test('redis URLs: scheme, auth, database and port', () => {
  expect(parseRedisUrl('redis://h')).toMatchObject({ host: 'h', port: 6379, tls: false, db: 0, password: undefined });
  expect(parseRedisUrl('rediss://u%40x:p%3Aw@[::1]:7000/4')).toMatchObject({
    host: '::1',
    port: 7000,
    tls: true,
    username: 'u@x',
    password: 'p:w',
    db: 4,
  });
  expect(() => parseRedisUrl('redis://:secret@')).toThrow(/redis:\/\/ or rediss:\/\/ URL/);
  expect(() => parseRedisUrl('redis://:secret@h:1/x')).toThrow(/database number/);
  try {
    parseRedisUrl('http://user:secret@h');
  } catch (err) {
    expect(err.message).not.toContain('secret');
  }
});

/** A fake Redis: replies to the commands `answer` handles, stays silent otherwise. */
async function fakeRedis(answer) {
  const sockets = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.push(socket);
    socket.on('data', (d) => {
      const reply = answer(String(d));
      if (reply) socket.write(reply);
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    connections: () => connections,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const options = (port, extra) => ({ host: '127.0.0.1', port, connectTimeoutMs: 1000, commandTimeoutMs: 300, ...extra });

test('a connection whose replies stop is dropped after commandTimeoutMs: the command fails with STORE_UNAVAILABLE, and it reconnects', async () => {
  const fake = await fakeRedis(() => null);
  const conn = new RespConnection(options(fake.port));
  try {
    await conn.whenReady();
    const t0 = Date.now();
    await expect(conn.send(['GET', 'k'])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('no reply for 300 ms'),
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    await until(() => fake.connections() >= 2, 3000, 'a reconnect');
  } finally {
    await conn.close();
    await fake.close();
  }
});

test('an idle subscriber connection PINGs, so a peer that went silent is noticed and replaced', async () => {
  let subscribed = 0;
  const fake = await fakeRedis((text) => {
    if (!text.includes('SUBSCRIBE')) return null; // PING goes unanswered
    subscribed++;
    return '*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n';
  });
  const conn = new RespConnection(
    options(fake.port, { handshake: [['SUBSCRIBE', 'c']], pingMs: 100 }),
    undefined,
    () => {},
  );
  try {
    await conn.whenReady();
    await until(() => subscribed >= 2, 3000, 'a second connection that subscribes again');
  } finally {
    await conn.close();
    await fake.close();
  }
});

test('while down, commands fail at once with STORE_UNAVAILABLE naming the address; post() reports false', async () => {
  const fake = await fakeRedis(() => '+PONG\r\n');
  const conn = new RespConnection(options(fake.port));
  try {
    await conn.whenReady();
    expect(await conn.send(['PING'])).toBe('PONG');
    await fake.close();
    await until(() => !conn.ready, 2000, 'the close');
    await expect(conn.send(['PING'])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining(`127.0.0.1:${fake.port}`),
    });
    await expect(conn.whenReady()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(conn.post(['PING'], () => {}, null)).toBe(false);
  } finally {
    await conn.close();
  }
});

test('a connection closed during its handshake reconnects (the handshake reply callback ran after the close)', async () => {
  let attempts = 0;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (d) => {
      if (!String(d).includes('SUBSCRIBE')) return;
      // The first connection dies before its handshake is answered; the second is served.
      if (++attempts === 1) socket.destroy();
      else socket.write('*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const conn = new RespConnection(
    options(server.address().port, { handshake: [['SUBSCRIBE', 'c']] }),
    undefined,
    () => {},
  );
  try {
    await until(() => conn.ready, 3000, 'the second connection to become ready');
    expect(attempts).toBe(2);
  } finally {
    await conn.close();
    server.close();
  }
});

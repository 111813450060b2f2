'use strict';

// The output side of a Redis connection: commands are written straight into
// one growing Buffer, and a loop turn's worth leaves in one socket write. No
// string is concatenated per command and nothing is encoded at flush time,
// which keeps an append to a few memcpys (see bench/resume-append.js).

const INITIAL_BYTES = 64 * 1024;
const RECYCLE_MAX_BYTES = 1024 * 1024;

class RespWriter {
  constructor() {
    this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    this.len = 0;
    this.spare = []; // written buffers, back from the socket, for reuse
  }

  ensure(n) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Raw bytes (e.g. a pre-encoded command head). */
  bytes(b) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  // The next few write ASCII framing byte by byte (no string built, no
  // native call); the caller has ensure()d room for them.

  /** A non-negative integer's decimal digits. */
  int(n) {
    const buf = this.buf;
    let end = this.len + digits(n);
    this.len = end;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      buf[--end] = 48 + n - q * 10;
      n = q;
    }
    buf[end - 1] = 48 + n;
  }

  crlf() {
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** `$<len>\r\n<n>\r\n`: an integer argument. */
  bulkInt(n) {
    this.buf[this.len++] = 36;
    this.int(digits(n));
    this.crlf();
    this.int(n);
    this.crlf();
  }

  /** `$<len>\r\n<ms>-0\r\n`: a stream entry id argument. */
  bulkStreamId(ms) {
    this.buf[this.len++] = 36;
    this.int(digits(ms) + 2);
    this.crlf();
    this.int(ms);
    this.buf[this.len++] = 45;
    this.buf[this.len++] = 48;
    this.crlf();
  }

  /** `$1\r\n<c>\r\n`: a one-character argument (a field name). */
  char(code) {
    const buf = this.buf;
    buf[this.len++] = 36;
    buf[this.len++] = 49;
    this.crlf();
    buf[this.len++] = code;
    this.crlf();
  }

  /** One bulk string: `$<bytes>\r\n<data>\r\n`, data a string (UTF-8) or bytes. */
  bulk(data) {
    const text = typeof data === 'string';
    const n = text ? Buffer.byteLength(data) : data.length;
    this.ensure(n + 24);
    this.buf[this.len++] = 36;
    this.int(n);
    this.crlf();
    if (text) this.len += this.buf.utf8Write(data, this.len);
    else {
      this.buf.set(data, this.len);
      this.len += n;
    }
    this.crlf();
  }

  /** A whole command from arguments (strings, numbers, bytes). */
  command(args) {
    this.ensure(24);
    this.buf[this.len++] = 42;
    this.int(args.length);
    this.crlf();
    for (const arg of args) this.bulk(typeof arg === 'number' ? String(arg) : arg);
  }

  /** Hands out what was written (to write to a socket) and starts afresh. */
  take() {
    if (this.len === 0) return null;
    const out = this.buf.subarray(0, this.len);
    const next = this.spare.pop();
    this.buf =
      next === undefined
        ? Buffer.allocUnsafe(Math.max(INITIAL_BYTES, Math.min(this.buf.length, RECYCLE_MAX_BYTES)))
        : next;
    this.len = 0;
    return out;
  }

  /** A buffer from take() that the socket has finished with. */
  recycle(chunk) {
    const { buffer, byteOffset } = chunk;
    if (byteOffset === 0 && buffer.byteLength <= RECYCLE_MAX_BYTES && this.spare.length < 2) {
      this.spare.push(Buffer.from(buffer, 0, buffer.byteLength));
    }
  }

  clear() {
    this.len = 0;
  }
}

function digits(n) {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

module.exports = { RespWriter };

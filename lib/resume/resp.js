'use strict';

// RESP2, the Redis protocol: commands go out as arrays of bulk strings
// (resp-writer.js), replies come back as simple strings (+), errors (-),
// integers (:), bulk strings ($, -1 for null) and arrays (*, nested). Spec:
// https://redis.io/docs/latest/develop/reference/protocol-spec/

/** An error reply from Redis (`-ERR ...`). */
class ReplyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReplyError';
  }
}

/** One bulk string. */
function bulk(arg) {
  const s = typeof arg === 'string' ? arg : String(arg);
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

const CR = 13;

/**
 * Incremental reply parser: feed() socket chunks, onReply(value) runs once per
 * complete top-level reply. Bulk strings decode as UTF-8 strings, errors as
 * ReplyError values (not thrown). Partial arrays stay on a stack between
 * chunks, and a large bulk string is gathered once it is all there, so a big
 * reply split across many chunks costs no rescans.
 */
class RespParser {
  /**
   * @param {(value: unknown) => void} onReply
   * @param {() => boolean} [skipValue] true: the next top-level bulk string
   *   reply is not wanted (onReply gets undefined for it)
   */
  constructor(onReply, skipValue = () => false) {
    this.onReply = onReply;
    this.skipValue = skipValue;
    this.reset();
  }

  reset() {
    this.rest = null; // unparsed tail of the last chunk
    this.pending = null; // chunks gathered for a bulk string that has not fully arrived
    this.pendingBytes = 0;
    this.needBytes = 0;
    this.stack = [];
  }

  feed(chunk) {
    if (this.pending !== null) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needBytes) return;
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = null;
    } else if (this.rest !== null) {
      chunk = Buffer.concat([this.rest, chunk]);
    }
    this.rest = null;
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const type = chunk[pos];
      let eol;
      let n = 0;
      if (type === 36 || type === 42 || type === 58) {
        // $ * : carry an integer: read it while looking for the CR (no
        // string, no native call: most replies are a few bytes).
        let i = pos + 1;
        const negative = chunk[i] === 45;
        if (negative) i++;
        let c;
        while (i < len && (c = chunk[i]) !== CR) {
          n = n * 10 + c - 48;
          i++;
        }
        if (negative) n = -n;
        eol = i;
      } else {
        eol = chunk.indexOf(CR, pos);
        if (eol === -1) eol = len;
      }
      if (eol + 1 >= len) break;
      let next = eol + 2;
      let value;
      if (type === 36) {
        if (n < 0) value = null;
        else {
          if (next + n + 2 > len) {
            this.pending = [chunk.subarray(pos)];
            this.pendingBytes = len - pos;
            this.needBytes = next + n + 2 - pos;
            return;
          }
          // A reply nobody reads (an XADD's id) is not decoded.
          value = this.stack.length === 0 && this.skipValue() ? undefined : chunk.toString('utf8', next, next + n);
          next += n + 2;
        }
      } else if (type === 42) {
        if (n > 0) {
          this.stack.push({ items: new Array(n), filled: 0 });
          pos = next;
          continue;
        }
        value = n < 0 ? null : [];
      } else if (type === 58) value = n;
      else if (type === 43) value = chunk.toString('utf8', pos + 1, eol);
      else if (type === 45) value = new ReplyError(chunk.toString('utf8', pos + 1, eol));
      else throw new Error(`Redis protocol error: unexpected byte ${type} in a reply`);
      pos = next;
      this.place(value);
    }
    if (pos < len) this.rest = chunk.subarray(pos);
  }

  place(value) {
    const { stack } = this;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      top.items[top.filled++] = value;
      if (top.filled < top.items.length) return;
      stack.pop();
      value = top.items;
    }
    this.onReply(value);
  }
}

module.exports = { ReplyError, RespParser, bulk };

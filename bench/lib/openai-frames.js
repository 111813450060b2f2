'use strict';
// The hand-written parser of the JS floor rows: SSE framing on raw Buffers (no
// string decoding of whole reads), then JSON.parse of each event's data. OpenAI
// and Anthropic separate events with "\n\n" and send one `data:` line per event
// (Anthropic after an `event:` line); that is all this parser handles. A general
// SSE parser must also split on CR and CRLF and join multi-line data.

const LFLF = Buffer.from('\n\n');
const DATA = Buffer.from('data:');
const NL_DATA = Buffer.from('\ndata:');
const DONE = '[DONE]';

class OpenAIFrames {
  constructor() {
    this.rest = null;
    this.finish = null;
    this.done = false;
    this.events = 0;
  }

  /** Feeds one read; calls onText(text) for each content delta in it. */
  push(buf, onText) {
    const data = this.rest === null ? buf : Buffer.concat([this.rest, buf]);
    let pos = 0;
    for (;;) {
      const end = data.indexOf(LFLF, pos);
      if (end === -1) break;
      this.event(data, pos, end, onText);
      pos = end + 2;
    }
    // Copy the tail so a 64 KiB read is not kept alive by a few bytes of it.
    this.rest = pos < data.length ? Buffer.from(data.subarray(pos)) : null;
  }

  /** Returns the event's data payload (one `data:` line), or null. */
  static payload(data, start, end) {
    while (start < end && data[start] === 0x0a) start++;
    let s;
    if (end - start >= DATA.length && data.compare(DATA, 0, DATA.length, start, start + DATA.length) === 0) {
      s = start + DATA.length;
    } else {
      const k = data.indexOf(NL_DATA, start);
      if (k === -1 || k >= end) return null;
      s = k + NL_DATA.length;
    }
    if (data[s] === 0x20) s++;
    return data.toString('utf8', s, end);
  }

  event(data, start, end, onText) {
    const payload = OpenAIFrames.payload(data, start, end);
    if (payload === null) return;
    this.events++;
    if (payload === DONE) {
      this.done = true;
      return;
    }
    const chunk = JSON.parse(payload);
    if (chunk.error) throw new Error(`Provider error: ${chunk.error.message}`);
    const choice = chunk.choices && chunk.choices[0];
    if (choice === undefined) return;
    const text = choice.delta && choice.delta.content;
    if (text) onText(text);
    if (choice.finish_reason) this.finish = choice.finish_reason;
  }
}

/** The same framing for Anthropic Messages events (text_delta only). */
class AnthropicFrames extends OpenAIFrames {
  event(data, start, end, onText) {
    const payload = OpenAIFrames.payload(data, start, end);
    if (payload === null) return;
    this.events++;
    const ev = JSON.parse(payload);
    if (ev.type === 'content_block_delta') {
      if (ev.delta.type === 'text_delta') onText(ev.delta.text);
    } else if (ev.type === 'message_delta') {
      this.finish = ev.delta.stop_reason;
    } else if (ev.type === 'message_stop') {
      this.done = true;
    } else if (ev.type === 'error') {
      throw new Error(`Provider error: ${ev.error && ev.error.message}`);
    }
  }
}

module.exports = { OpenAIFrames, AnthropicFrames };

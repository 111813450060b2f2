// The WHATWG event stream parser readStream uses (read-stream.mjs).

/**
 * Incremental parser for the WHATWG "parse an event stream" algorithm
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * fed decoded text. Lines end in CRLF, LF or CR, and a CRLF may be split
 * across two chunks. `feed` returns the events completed by the chunk.
 */
export function createSseParser() {
  let line = ''; // an unterminated line carried over from the previous chunk
  let pendingCr = false; // the previous chunk ended in CR: a leading LF belongs to it
  let data = '';
  let hasData = false;
  let eventType = '';
  let lastEventId = ''; // the id of the last event, as EventSource keeps it
  let events = [];

  function processLine(text) {
    if (text === '') {
      // Blank line: dispatch. An event without data lines is dropped, as the
      // spec says, and its type is reset.
      if (hasData) {
        events.push({
          event: eventType || 'message',
          data: data.endsWith('\n') ? data.slice(0, -1) : data,
          id: lastEventId,
        });
      }
      data = '';
      hasData = false;
      eventType = '';
      return;
    }
    if (text.charCodeAt(0) === 0x3a /* ':' */) return; // comment, e.g. `: ping`
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20 /* ' ' */) value = value.slice(1);
    if (field === 'data') {
      data += `${value}\n`;
      hasData = true;
    } else if (field === 'event') {
      eventType = value;
    } else if (field === 'id' && !value.includes('\0')) {
      // Kept for a resuming reader (Last-Event-ID); `retry` only matters to
      // EventSource, and unknown fields are ignored by the spec.
      lastEventId = value;
    }
  }

  return {
    feed(chunk) {
      events = [];
      const n = chunk.length;
      let i = 0;
      if (pendingCr) {
        pendingCr = false;
        if (n > 0 && chunk.charCodeAt(0) === 0x0a) i = 1;
      }
      // Next CR / LF positions are cached so a chunk with many lines but no
      // CR at all stays linear (indexOf would rescan it for every line).
      let lf = -2;
      let cr = -2;
      while (i < n) {
        if (lf !== -1 && lf < i) lf = chunk.indexOf('\n', i);
        if (cr !== -1 && cr < i) cr = chunk.indexOf('\r', i);
        if (lf === -1 && cr === -1) {
          line += chunk.slice(i);
          break;
        }
        const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
        const text = line === '' ? chunk.slice(i, end) : line + chunk.slice(i, end);
        line = '';
        processLine(text);
        i = end + 1;
        if (end === cr) {
          if (i < n) {
            if (chunk.charCodeAt(i) === 0x0a) i += 1;
          } else {
            pendingCr = true;
          }
        }
      }
      return events;
    },
  };
}

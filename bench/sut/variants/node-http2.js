'use strict';
// The JS floor over upstream HTTP/2: one node:http2 session (h2c, prior
// knowledge) to the mock carrying every stream, the same hand-written parser and
// one res.write per upstream read. Only runs in the HTTP/2 scenario.
const http2 = require('node:http2');
const { OpenAIFrames } = require('../../lib/openai-frames');
const { HEADERS, textEvent, finishEvent } = require('../../lib/sse-out');
const { OPENAI_BODY, openaiBase } = require('../../lib/upstream');

const BODY = Buffer.from(JSON.stringify({ ...OPENAI_BODY, stream: true, stream_options: { include_usage: true } }));

module.exports = {
  name: 'node-http2',
  label: 'node:http2 + hand parser (JS floor, h2)',
  packages: [],
  upstream: 'openai',
  clientMode: 'sse',
  http2: true,
  create(ctx) {
    let session = null;
    function getSession() {
      if (session && !session.closed && !session.destroyed) return session;
      session = http2.connect(ctx.mockOrigin, {
        maxSessionMemory: 256, // MiB: 1,000+ concurrent streams exceed the 10 MiB default
        settings: { initialWindowSize: 1 << 20 },
      });
      // The connection-level window stays at 64 KiB unless raised, and 1,000
      // streams share it: without this the mock stalls on flow control.
      session.on('connect', () => session.setLocalWindowSize(64 << 20));
      session.on('error', () => {
        session = null;
      });
      session.on('close', () => {
        session = null;
      });
      return session;
    }

    function open(knobs) {
      const path = new URL(`${openaiBase(ctx.mockOrigin, knobs)}/chat/completions`).pathname;
      const st = getSession().request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/json',
        'content-length': BODY.length,
        authorization: 'Bearer x',
        accept: 'text/event-stream',
      });
      st.end(BODY);
      return st;
    }

    return {
      handle(req, res, knobs) {
        const fail = (err) => {
          if (res.writableEnded || res.destroyed) return;
          if (!res.headersSent) {
            res.writeHead(502, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ code: 'UPSTREAM', message: String(err.message) }));
          } else {
            res.end(`event: error\ndata: ${JSON.stringify({ code: 'UPSTREAM', message: String(err.message) })}\n\n`);
          }
        };
        let st;
        try {
          st = open(knobs);
        } catch (err) {
          fail(err);
          return;
        }
        const frames = new OpenAIFrames();
        let out = '';
        const onText = (t) => {
          out += textEvent(t);
        };
        st.on('response', (headers) => {
          if (headers[':status'] !== 200) {
            st.close();
            fail(new Error(`Expected HTTP 200 from the provider but received ${headers[':status']}`));
            return;
          }
          res.writeHead(200, HEADERS);
          res.flushHeaders();
        });
        st.on('data', (buf) => {
          try {
            frames.push(buf, onText);
          } catch (err) {
            st.close();
            fail(err);
            return;
          }
          if (out.length === 0) return;
          const chunk = out;
          out = '';
          if (!res.write(chunk)) {
            st.pause();
            res.once('drain', () => st.resume());
          }
        });
        st.on('end', () => {
          if (res.writableEnded || res.destroyed) return;
          if (!frames.done) {
            fail(new Error('The provider stream ended without [DONE]'));
            return;
          }
          res.end(`${finishEvent(frames.finish)}data: [DONE]\n\n`);
        });
        st.on('error', fail);
        res.on('close', () => {
          if (!res.writableFinished) st.close(http2.constants.NGHTTP2_CANCEL);
        });
      },
      consume(knobs, onText, signal) {
        return new Promise((resolve, reject) => {
          const st = open(knobs);
          const frames = new OpenAIFrames();
          st.on('data', (buf) => frames.push(buf, onText));
          st.on('end', resolve);
          st.on('error', reject);
          signal.addEventListener('abort', () => {
            st.close(http2.constants.NGHTTP2_CANCEL);
            resolve();
          });
        });
      },
    };
  },
};

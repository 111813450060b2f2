'use strict';
// The JS floor: node:http with a keep-alive agent, the hand-written Buffer parser
// of lib/openai-frames.js, and one res.write per upstream read (every delta in
// that read encoded into one string). Backpressure pauses the upstream response.
const http = require('node:http');
const { OpenAIFrames } = require('../../lib/openai-frames');
const { HEADERS, textEvent, finishEvent } = require('../../lib/sse-out');
const { OPENAI_BODY, openaiBase } = require('../../lib/upstream');

const BODY = Buffer.from(JSON.stringify({ ...OPENAI_BODY, stream: true, stream_options: { include_usage: true } }));

module.exports = {
  name: 'node-http',
  label: 'node:http + hand parser (JS floor)',
  packages: [],
  upstream: 'openai',
  clientMode: 'sse',
  create(ctx) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

    function request(knobs, onResponse, onError) {
      const req = http.request(`${openaiBase(ctx.mockOrigin, knobs)}/chat/completions`, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': BODY.length,
          authorization: 'Bearer x',
          accept: 'text/event-stream',
        },
      });
      req.on('response', onResponse);
      req.on('error', onError);
      req.end(BODY);
      return req;
    }

    return {
      handle(req, res, knobs) {
        let upstream = null;
        const fail = (err) => {
          if (res.writableEnded || res.destroyed) return;
          if (!res.headersSent) {
            res.writeHead(502, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ code: 'UPSTREAM', message: String(err.message) }));
          } else {
            res.end(`event: error\ndata: ${JSON.stringify({ code: 'UPSTREAM', message: String(err.message) })}\n\n`);
          }
        };
        const up = request(
          knobs,
          (ur) => {
            upstream = ur;
            if (ur.statusCode !== 200) {
              ur.resume();
              fail(new Error(`Expected HTTP 200 from the provider but received ${ur.statusCode}`));
              return;
            }
            res.writeHead(200, HEADERS);
            res.flushHeaders();
            const frames = new OpenAIFrames();
            let out = '';
            const onText = (t) => {
              out += textEvent(t);
            };
            ur.on('data', (buf) => {
              try {
                frames.push(buf, onText);
              } catch (err) {
                up.destroy();
                fail(err);
                return;
              }
              if (out.length === 0) return;
              const chunk = out;
              out = '';
              if (!res.write(chunk)) {
                ur.pause();
                res.once('drain', () => ur.resume());
              }
            });
            ur.on('end', () => {
              if (res.writableEnded || res.destroyed) return;
              if (!frames.done) {
                fail(new Error('The provider stream ended without [DONE]'));
                return;
              }
              res.end(`${finishEvent(frames.finish)}data: [DONE]\n\n`);
            });
            ur.on('error', fail);
          },
          fail,
        );
        res.on('close', () => {
          if (!res.writableFinished) {
            up.destroy();
            if (upstream) upstream.destroy();
          }
        });
      },
      consume(knobs, onText, signal) {
        return new Promise((resolve, reject) => {
          const up = request(
            knobs,
            (ur) => {
              const frames = new OpenAIFrames();
              ur.on('data', (buf) => frames.push(buf, onText));
              ur.on('end', resolve);
              ur.on('error', reject);
              ur.on('aborted', () => reject(new Error('aborted')));
            },
            reject,
          );
          signal.addEventListener('abort', () => {
            up.destroy();
            resolve();
          });
        });
      },
    };
  },
};

// The test page for useStream (test/integration/react.test.js), bundled with esbuild at test
// time and driven from the test through window.__test. Every render of the component is logged
// with the animation frame it happened in (a requestAnimationFrame loop counts the frames).

import { RelayError } from 'llm-relay/client';
import { useStream } from 'llm-relay/react';
import { createElement as h, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

window.__frame = 0;
const tick = () => {
  window.__frame += 1;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);

const log = { renders: [], finished: [] };

function Chat({ options, controls }) {
  const result = useStream({ ...options, onFinish: (summary) => log.finished.push(summary) });
  log.renders.push({ frame: window.__frame, at: performance.now(), status: result.status, length: result.text.length });
  controls.current = result;
  return h('pre', { id: 'answer', 'data-status': result.status }, result.text);
}

let root;
const controls = { current: undefined };

window.__test = {
  mount(options, strict = false) {
    log.renders.length = 0;
    log.finished.length = 0;
    root = createRoot(document.getElementById('root'));
    const chat = h(Chat, { options, controls });
    root.render(strict ? h(StrictMode, null, chat) : chat);
  },
  unmount() {
    root.unmount();
    root = undefined;
  },
  send(body) {
    controls.current.send(body);
  },
  stop() {
    controls.current.stop();
  },
  state() {
    const { text, reasoning, toolCalls, data, status, error } = controls.current;
    return {
      text,
      reasoning,
      toolCalls,
      data,
      status,
      error: error && {
        name: error.name,
        code: error.code,
        status: error.status,
        retryAfterMs: error.retryAfterMs,
        message: error.message,
        isRelayError: error instanceof RelayError,
      },
    };
  },
  log() {
    return { renders: log.renders.slice(), finished: log.finished.slice(), frame: window.__frame };
  },
};
window.__ready = true;

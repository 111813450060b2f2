'use strict';

// The AI SDK's chat (`AbstractChat` from the `ai` package, which useChat wraps with React state)
// against a resumable ui-message route: a page that reloads mid-answer comes back with
// `resume: true`, which GETs `${api}/${chatId}/stream` and replays the UI message stream; the
// answer is whole, and the provider was asked once.

const { AbstractChat, DefaultChatTransport } = require('ai');
const express = require('express');
const { stream, createMemoryStore } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');
const { startServer } = require('../integration/relay-helpers');
const { until } = require('./helpers');

const ANSWER = Array.from({ length: 25 }, (_, i) => `part${i} `).join('');

/** The chat state useChat keeps in React, as plain fields. */
class State {
  constructor(messages = []) {
    this.status = 'ready';
    this.error = undefined;
    this.messages = messages;
  }

  pushMessage(message) {
    this.messages = [...this.messages, message];
  }

  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }

  replaceMessage(index, message) {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
  }

  snapshot(thing) {
    return structuredClone(thing);
  }
}

class Chat extends AbstractChat {
  constructor({ messages, ...options }) {
    super({ ...options, state: new State(messages) });
  }
}

const textOf = (message) =>
  message.parts
    .filter((p) => p.type === 'text')
    .map((p) => p.text)
    .join('');

let mock;
let store;
let server;
const active = new Set(); // chats with an answer in flight (a database column in a real app)

beforeAll(async () => {
  mock = await startMockProvider({ provider: 'openai', script: { tokens: ANSWER, delayMs: 20 } });
  store = createMemoryStore();
  const app = express();
  // The route pair of the README's useChat recipe.
  app.post('/api/chat', express.json(), (req, res) => {
    const { id, messages } = req.body;
    const history = messages.map((m) => ({
      role: m.role,
      content: m.parts
        .filter((p) => p.type === 'text')
        .map((p) => p.text)
        .join(''),
    }));
    active.add(id);
    stream({
      provider: 'openai',
      baseURL: mock.baseURL('openai'),
      apiKey: 'sk-test',
      body: { model: 'gpt-4o-mini', messages: history },
    })
      .pipe(res, { format: 'ui-message', resume: { store, id } })
      .catch(() => {})
      .finally(() => active.delete(id));
  });
  app.get('/api/chat/:id/stream', (req, res) => {
    if (!active.has(req.params.id)) return res.status(204).end();
    store
      .resume(req.params.id)
      .pipe(res, { format: 'ui-message' })
      .catch(() => {});
  });
  server = await startServer(app);
});

afterAll(async () => {
  await server.close();
  await store.close();
  await mock.close();
});

test('a chat that reloads mid-answer resumes it with resume: true; the answer is whole and the provider was asked once', async () => {
  const api = `${server.url}/api/chat`;
  const before = mock.requests.length;
  const first = new Chat({ id: 'chat-1', transport: new DefaultChatTransport({ api }) });
  const sent = first.sendMessage({ text: 'Tell me' });
  await until(() => first.messages.length === 2 && textOf(first.messages[1]).length > 0, 5000, 'the first tokens');
  // The tab reloads: this chat object is gone with its connection.
  await first.stop();
  await sent;
  expect(textOf(first.messages[1]).length).toBeLessThan(ANSWER.length);

  // The reloaded page: the messages from its database (the user's), then useChat({ resume: true }).
  const reloaded = new Chat({
    id: 'chat-1',
    transport: new DefaultChatTransport({ api }),
    messages: [first.messages[0]],
  });
  await reloaded.resumeStream();
  expect(reloaded.status).toBe('ready');
  expect(reloaded.error).toBeUndefined();
  expect(reloaded.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  expect(textOf(reloaded.messages[1])).toBe(ANSWER);
  expect(mock.requests.length).toBe(before + 1);
  expect(mock.requests[before].completed).toBe(true);

  // Later, with no answer in flight, resume: true finds nothing (204) and leaves the chat as it is.
  const later = new Chat({ id: 'chat-1', transport: new DefaultChatTransport({ api }), messages: reloaded.messages });
  await later.resumeStream();
  expect(later.status).toBe('ready');
  expect(later.messages).toHaveLength(2);
});

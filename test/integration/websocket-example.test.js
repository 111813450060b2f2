'use strict';

// examples/websocket in headless Chromium: the page reads answers with readWebSocket from
// llm-relay/client over one socket; asking again mid-answer interrupts the answer in flight (its
// provider request ends at once) and the new answer streams on the same socket, unmixed.

const { WebSocket } = require('ws');
const { start } = require('../../examples/websocket/server.js');
const { launchChromium, newWatchedPage } = require('../helpers/chromium');
const { settlesWithin, sleep } = require('../helpers/time');

describe('the WebSocket example', () => {
  let demo;
  let browser;
  let page;
  const pageErrors = [];

  beforeAll(async () => {
    demo = await start({ port: 0, mock: true, log: () => {} });
    browser = await launchChromium();
    page = await newWatchedPage(browser, pageErrors);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([browser && browser.close()]);
    if (demo) await demo.close();
  });

  const assistant = (i) => page.locator('.msg.assistant').nth(i);
  const words = (i) =>
    page.evaluate((n) => (document.querySelectorAll('.msg.assistant')[n]?.textContent || '').split(' ').length, i);

  test('asking mid-answer interrupts it, aborts its provider request, and the new answer streams unmixed', async () => {
    await page.goto(demo.url);
    await page.fill('#input', 'first question');
    await page.click('#send');
    await page.waitForFunction(
      () => (document.querySelector('.msg.assistant')?.textContent || '').split(' ').length >= 6,
      undefined,
      { timeout: 10_000 },
    );
    const [first] = await demo.mock.waitForRequests(1);

    await page.fill('#input', 'second question');
    await page.click('#send');
    await expect(settlesWithin(first.closed, 3000)).resolves.toBe(true);
    expect(first.completed).toBe(false);
    await page.waitForFunction(
      () => document.querySelectorAll('.msg.assistant')[1]?.dataset.state === 'done',
      undefined,
      { timeout: 20_000 },
    );

    await expect(assistant(0).getAttribute('data-state')).resolves.toBe('stopped');
    const interrupted = await assistant(0).textContent();
    expect(interrupted.startsWith('You said: “first question”.')).toBe(true);
    const second = await assistant(1).textContent();
    expect(second.startsWith('You said: “second question”.')).toBe(true);
    expect(second).not.toContain('first question');
    expect(second.endsWith('to talk to a real model instead.')).toBe(true);
    // The second request carried the interrupted answer as the assistant's turn.
    const [, record] = await demo.mock.waitForRequests(2);
    expect(record.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(record.body.messages[1].content).toBe(interrupted);
    expect(await words(0)).toBe(interrupted.split(' ').length);
  }, 40_000);

  test('Stop ends the answer and its provider request; the page stays usable', async () => {
    await page.fill('#input', 'third question');
    await page.click('#send');
    await page.waitForFunction(
      () => (document.querySelectorAll('.msg.assistant')[2]?.textContent || '').split(' ').length >= 4,
      undefined,
      { timeout: 10_000 },
    );
    const [, , third] = await demo.mock.waitForRequests(3);
    await page.click('#stop');
    await expect(settlesWithin(third.closed, 3000)).resolves.toBe(true);
    expect(third.completed).toBe(false);
    await page.waitForFunction(() => document.querySelectorAll('.msg.assistant')[2].dataset.state === 'stopped');
    const stopped = await assistant(2).textContent();
    await sleep(300);
    await expect(assistant(2).textContent()).resolves.toBe(stopped);
    expect(pageErrors).toEqual([]);
  }, 30_000);

  test('a Node ws client gets the same messages: deltas, then {"type":"done"}', async () => {
    const ws = new WebSocket(demo.wsUrl);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const messages = [];
    const done = new Promise((resolve) =>
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        messages.push(m);
        if (m.type === 'done' || m.type === 'error') resolve();
      }),
    );
    ws.send(JSON.stringify({ messages: [{ role: 'user', content: 'from node' }] }));
    await done;
    ws.close();
    expect(messages[messages.length - 1]).toEqual({ type: 'done' });
    expect(
      messages
        .filter((m) => m.type === 'text')
        .map((m) => m.text)
        .join('')
        .startsWith('You said: “from node”.'),
    ).toBe(true);
  }, 30_000);
});

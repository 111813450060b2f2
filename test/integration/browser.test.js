'use strict';

// The demo in a real browser: headless Chromium loads examples/express's page, sends a message and
// watches the answer grow token by token, then stops a second answer mid-stream and checks that the
// provider request really ended. Leaves a screenshot at /tmp/demo.png.

const { start } = require('../../examples/express/server.js');
const { launchChromium, newWatchedPage } = require('../helpers/chromium');
const { settlesWithin, sleep } = require('../helpers/time');

const SCREENSHOT = '/tmp/demo.png';

describe('the Express demo in headless Chromium', () => {
  let demo;
  let browser;
  let page;
  const pageErrors = [];

  beforeAll(async () => {
    // Its own mock provider at the demo's human pace (~45 ms per token, ~85 tokens).
    demo = await start({ port: 0, mock: true, log: () => {} });
    browser = await launchChromium();
    page = await newWatchedPage(browser, pageErrors);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([browser && browser.close()]);
    if (demo) await demo.close();
  });

  const assistant = (i) => page.locator('.msg.assistant').nth(i);

  test('the page loads the client module and shows the provider', async () => {
    await page.goto(demo.url);
    await expect(page.title()).resolves.toBe('llm-relay demo');
    await expect(page.locator('#provider').textContent()).resolves.toBe('mock provider');
    await expect(page.locator('#send').isEnabled()).resolves.toBe(true);
    await expect(page.locator('#stop').isEnabled()).resolves.toBe(false);
  });

  test('an answer appears token by token and ends in a done state', async () => {
    await page.fill('#input', 'Hello from the browser test');
    await page.click('#send');

    // Sample the answer while it streams: it must grow over several samples, not appear at once.
    const lengths = [];
    const deadline = Date.now() + 20_000;
    let state = 'streaming';
    while (Date.now() < deadline) {
      const sample = await assistant(0).evaluate((el) => ({ state: el.dataset.state, length: el.textContent.length }));
      state = sample.state;
      if (state !== 'streaming') break;
      if (sample.length > 0 && sample.length !== lengths[lengths.length - 1]) lengths.push(sample.length);
      await sleep(150);
    }
    expect(state).toBe('done');
    expect(lengths.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeGreaterThan(lengths[i - 1]);

    const text = await assistant(0).textContent();
    expect(text.startsWith('You said: “Hello from the browser test”.')).toBe(true);
    expect(text).toContain('stream(...).pipe(res)');
    expect(lengths[0]).toBeLessThan(text.length / 2);
    await expect(page.locator('#status').getAttribute('data-kind')).resolves.toBe('done');
    await expect(page.locator('#stop').isEnabled()).resolves.toBe(false);
    expect(demo.mock.requests).toHaveLength(1);
    await expect(settlesWithin(demo.mock.requests[0].closed, 2000)).resolves.toBe(true);
    expect(demo.mock.requests[0].completed).toBe(true);
  });

  test('Stop mid-answer ends the provider request and shows a stopped state', async () => {
    await page.fill('#input', 'Tell me more, then I will stop you');
    await page.click('#send');
    await page.waitForFunction(
      () => {
        const el = document.querySelectorAll('.msg.assistant')[1];
        return el && el.textContent.split(' ').length >= 6;
      },
      undefined,
      { timeout: 10_000 },
    );
    await expect(page.locator('#stop').isEnabled()).resolves.toBe(true);

    const [, record] = await demo.mock.waitForRequests(2);
    // The browser sent the whole conversation, the first answer included.
    expect(record.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(record.closedAt).toBeUndefined();

    await page.click('#stop');
    // Upstream: the relay saw the browser's disconnect and closed the provider request.
    await expect(settlesWithin(record.closed, 3000)).resolves.toBe(true);
    expect(record.endedByClient).toBe(true);
    expect(record.completed).toBe(false);

    // Page: a stopped answer, the controls ready for the next message, and no more growth.
    await page.waitForFunction(() => document.querySelectorAll('.msg.assistant')[1].dataset.state === 'stopped');
    await expect(assistant(1).locator('.note').textContent()).resolves.toBe('Stopped.');
    await expect(page.locator('#status').getAttribute('data-kind')).resolves.toBe('stopped');
    await expect(page.locator('#send').isEnabled()).resolves.toBe(true);
    await expect(page.locator('#stop').isEnabled()).resolves.toBe(false);
    const stoppedText = await assistant(1).textContent();
    await sleep(400);
    await expect(assistant(1).textContent()).resolves.toBe(stoppedText);
    const fullAnswer = await assistant(0).textContent();
    expect(stoppedText.length).toBeLessThan(fullAnswer.length);

    await page.screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });
});

describe('the Express demo when the provider refuses', () => {
  let demo;
  let browser;

  beforeAll(async () => {
    // A 429 asking for 20 s: longer than the retry budget, so it reaches the page, in-band after
    // the 200, with its status and Retry-After.
    demo = await start({
      port: 0,
      mock: true,
      mockScript: { status: 429, headers: { 'retry-after': '20' } },
      log: () => {},
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([browser && browser.close()]);
    if (demo) await demo.close();
  });

  test('a rate limit reads "retry in 20 s" on the page, from the RelayError the client threw', async () => {
    const page = await browser.context.newPage();
    await page.goto(demo.url);
    await page.fill('#input', 'Hello?');
    await page.click('#send');
    await page.waitForFunction(() => document.querySelector('.msg.assistant')?.dataset.state === 'error', undefined, {
      timeout: 10_000,
    });
    await expect(page.locator('.msg.assistant .note').textContent()).resolves.toBe(
      'Error: rate limited, retry in 20 s',
    );
    await expect(page.locator('#status').getAttribute('data-kind')).resolves.toBe('error');
  });
});

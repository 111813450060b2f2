'use strict';

// Debian's Chromium (/usr/bin/chromium; .ci/run installs it) driven by playwright-core, headless,
// with a fresh profile per launch and nothing that talks to the network on its own.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { requireBinary } = require('./system');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const ARGS = [
  '--headless',
  // Root in a container has no user namespace for the sandbox; the page is our own demo.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws a message that says how to get Chromium when the binary is missing. */
function requireChromium() {
  return requireBinary(CHROMIUM, { name: 'Chromium', pkg: 'chromium', envVar: 'CHROMIUM_BIN' });
}

/**
 * Launches Chromium with a new temporary profile (playwright passes it as --user-data-dir).
 * @param {{ viewport?: { width: number, height: number } }} [opts]
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close: () => Promise<void> }>}
 */
async function launchChromium({ viewport = { width: 900, height: 700 } } = {}) {
  const executablePath = requireChromium();
  const { chromium } = require('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: ARGS,
      viewport,
      timeout: 30_000,
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  let closing;
  const close = () => {
    if (!closing) {
      closing = context.close().finally(() => fs.rmSync(userDataDir, { recursive: true, force: true }));
    }
    return closing;
  };
  return { context, close };
}

/**
 * A new page of `browser` whose uncaught errors and console errors are pushed to `errors`
 * (a test ends by expecting it empty).
 * @param {{ context: import('playwright-core').BrowserContext }} browser
 * @param {string[]} errors
 */
async function newWatchedPage(browser, errors) {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return page;
}

module.exports = { launchChromium, newWatchedPage, requireChromium, CHROMIUM_ARGS: ARGS };

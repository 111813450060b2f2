'use strict';

// llm-relay/react as a package export: ESM, 'use client' first (so a Next.js App Router page can
// import it into a client component), and safe to import where there is no DOM (a server render).

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');

test("the export resolves to an ES module whose first statement is 'use client'", () => {
  const pkg = require('../../package.json');
  expect(pkg.exports['./react']).toEqual({ types: './react.d.ts', default: './lib/react.mjs' });
  expect(pkg.peerDependenciesMeta.react).toEqual({ optional: true });
  const source = fs.readFileSync(path.join(ROOT, 'lib/react.mjs'), 'utf8');
  expect(source.startsWith("'use client';\n")).toBe(true);
});

test('importing it and rendering on the server touches no browser global', () => {
  const script = `
    import { createElement } from 'react';
    import { renderToString } from 'react-dom/server';
    import { useStream } from 'llm-relay/react';
    function Chat() {
      const { text, status } = useStream({ api: '/api/chat' });
      return createElement('p', null, status + ':' + text);
    }
    process.stdout.write(renderToString(createElement(Chat)));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(out).toBe('<p>idle:</p>');
});

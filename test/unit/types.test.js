'use strict';

const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('the public .d.ts files type-check a realistic usage file (tsc --noEmit)', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  let output = '';
  try {
    output = execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, '..', 'types', 'tsconfig.json')], {
      encoding: 'utf8',
    });
  } catch (err) {
    output = `${err.stdout}${err.stderr}`;
  }
  expect(output).toBe('');
}, 60000);

#!/usr/bin/env node
'use strict';
// Replaces the block between <!-- bench:start --> and <!-- bench:end --> in the
// repository README with the tables of bench/results/latest.json.
// Usage: node bench/update-readme.js [--readme PATH] [--results PATH]
const fs = require('node:fs');
const path = require('node:path');
const report = require('./lib/report');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

function main() {
  const readmePath = path.resolve(arg('readme', path.join(__dirname, '..', 'README.md')));
  const resultsPath = path.resolve(arg('results', path.join(__dirname, 'results', 'latest.json')));
  if (!fs.existsSync(resultsPath)) {
    console.error(`update-readme: ${resultsPath} not found; run npm run bench (or bench:quick) first`);
    return 1;
  }
  if (!fs.existsSync(readmePath)) {
    console.error(`update-readme: ${readmePath} not found`);
    return 1;
  }
  const { summary } = JSON.parse(fs.readFileSync(resultsPath, 'utf8'));
  const readme = fs.readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a === -1 || b === -1 || b < a) {
    console.log(
      `update-readme: ${readmePath} has no ${START} … ${END} block; add the two markers where the table belongs`,
    );
    return 0;
  }
  const next = `${readme.slice(0, a + START.length)}\n${report.readme(summary)}\n${readme.slice(b)}`;
  if (next === readme) {
    console.log('update-readme: README already up to date');
    return 0;
  }
  fs.writeFileSync(readmePath, next);
  console.log(`update-readme: updated ${readmePath}`);
  return 0;
}

process.exitCode = main();

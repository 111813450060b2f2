'use strict';
// The token sequence the mock provider sends (mirror of native/bench_common.h).
// parse-bench.js checks this mirror against the mock's own output on every run,
// so a drift between the two lists is caught, not silently measured.

const WORDS = [
  ' The',
  ' model',
  ' streams',
  ' tokens',
  ',',
  ' one',
  ' at',
  ' a',
  ' time',
  '.',
  '\n',
  ' Each',
  ' chunk',
  ' carries',
  ' "quoted"',
  ' text',
  ' and',
  ' some',
  ' café',
  ' 東京',
  ' 🙂',
  ' back\\slash',
  '\t',
  ' relay',
  ' proxies',
  ' must',
  ' not',
  ' buffer',
  ';',
  ' the',
  ' browser',
  ' sees',
  ' every',
  ' delta',
  ' as',
  ' soon',
  ' it',
  ' arrives',
  '!',
  ' Latency',
  ' matters',
  ' more',
  ' than',
  ' bulk',
  ' throughput',
  ' here',
  ':',
  ' <b>',
  ' 42',
  ' %',
  ' done',
  '?',
  ' yes',
  ' ok',
  ' JSON',
  ' split',
  ' across',
  ' reads',
  ' is',
  ' normal',
  '\n\n',
  ' end',
  ' of',
  ' line',
];

/** Token i of every stream. */
function tokenText(i) {
  return WORDS[(i * 13) % WORDS.length];
}

/** The first n tokens joined. */
function expectedText(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += tokenText(i);
  return s;
}

const PERIOD_TEXT = expectedText(WORDS.length);
const PERIOD_UTF16 = PERIOD_TEXT.length;

/**
 * How many whole tokens a text of `length` UTF-16 code units holds, assuming it
 * is a prefix of the sequence (checked separately). Lets a consumer count tokens
 * even when a relay coalesces several tokens into one delta.
 */
function tokensInLength(length) {
  const periods = Math.floor(length / PERIOD_UTF16);
  let rest = length - periods * PERIOD_UTF16;
  let n = periods * WORDS.length;
  for (let i = 0; i < WORDS.length; i++) {
    const l = tokenText(i).length;
    if (rest < l) break;
    rest -= l;
    n++;
  }
  return n;
}

module.exports = { WORDS, tokenText, expectedText, tokensInLength, PERIOD_TEXT };

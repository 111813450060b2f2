'use strict';
// Where each system under test sends its upstream request, and with what body.
// The mock's knobs travel in the path (/k/tokens=…,pace_us=…/v1/…), so every SDK
// reaches them through its ordinary baseURL option.

const OPENAI_BODY = Object.freeze({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Write a short story about a relay.' }],
});

const ANTHROPIC_BODY = Object.freeze({
  model: 'claude-sonnet-5-5',
  max_tokens: 4096,
  messages: [{ role: 'user', content: 'Write a short story about a relay.' }],
});

const KNOB_RE = /^[a-z_]+=\d+(,[a-z_]+=\d+)*$/;

function checkKnobs(knobs) {
  if (!KNOB_RE.test(knobs)) throw new Error(`Expected knobs like tokens=150,pace_us=20000 but received ${knobs}`);
  return knobs;
}

/** Base URL in the OpenAI convention (ends in /v1; the SDK appends /chat/completions). */
function openaiBase(mockOrigin, knobs) {
  return `${mockOrigin}/k/${checkKnobs(knobs)}/v1`;
}

/** Base URL in the Anthropic SDK convention (no /v1; the SDK appends /v1/messages). */
function anthropicBase(mockOrigin, knobs) {
  return `${mockOrigin}/k/${checkKnobs(knobs)}`;
}

/** A memo of one long-lived SDK client per base URL, as an app would keep one. */
function clientCache(make) {
  const map = new Map();
  return (base) => {
    let c = map.get(base);
    if (c === undefined) {
      c = make(base);
      map.set(base, c);
    }
    return c;
  };
}

module.exports = { OPENAI_BODY, ANTHROPIC_BODY, openaiBase, anthropicBase, clientCache, checkKnobs };

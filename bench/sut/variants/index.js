'use strict';
// Every system under test, in table order. `upstream` picks the mock's wire
// format, `clientMode` how the load client reads the downstream bytes, `http2`
// marks the rows of the upstream HTTP/2 scenario.
const relay = require('./llm-relay');

const ALL = [
  ...relay.variants,
  ...require('./llm-relay-more').variants,
  require('./openai-sdk'),
  require('./anthropic-sdk'),
  require('./ai-sdk'),
  require('./ai-sdk-text'),
  require('./fetch-esp'),
  require('./node-http'),
  require('./node-http2'),
];

const BY_NAME = new Map(ALL.map((v) => [v.name, v]));

function getVariant(name) {
  const v = BY_NAME.get(name);
  if (!v) throw new Error(`Expected a variant name (${[...BY_NAME.keys()].join(', ')}) but received ${name}`);
  return v;
}

module.exports = { ALL, getVariant };

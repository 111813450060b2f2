'use strict';

// Any event stream, relayed as raw events (no JSON). Response side:
// src/providers/raw_sse.cc.

const { readErrorObject } = require('./error-body');

module.exports = {
  baseURL: undefined,
  envKey: [],
  optionalKey: true,
  needsURL: true,
  path: () => '',
  auth: (key) => [`Authorization: Bearer ${key}`],
  accept: 'text/event-stream',
  prepare: (body) => body,
  readError: readErrorObject,
};

'use strict';

// Resume stores: where a resumable stream's deltas are logged so a reader
// can come back (docs/resume-store.md).

const { createMemoryStore } = require('./memory-store');
const { createRedisStore } = require('./redis-store');
const { checkStore } = require('./store');

module.exports = { createMemoryStore, createRedisStore, checkStore };

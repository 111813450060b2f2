'use strict';

// Resume stores: where a resumable stream's deltas are logged so a reader
// can come back (docs/resume-store.md).

const { createMemoryStore } = require('./memory-store');
const { createRedisStore } = require('./redis-store');
const { checkStore } = require('./store');
const { checkId, parseLastEventId } = require('./validate');
const { terminalError } = require('./errors');

// checkStore, checkId, parseLastEventId, terminalError: for the relay code
// that writes to and reads from a store (not part of the package's API).
module.exports = { createMemoryStore, createRedisStore, checkStore, checkId, parseLastEventId, terminalError };

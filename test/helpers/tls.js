'use strict';

// The per-process test CA and localhost certificate (made with the openssl command), for tests that
// need their own TLS server next to the mock provider.

const { getTestCertificates } = require('../../lib/testing/tls');

module.exports = { getTestCertificates };

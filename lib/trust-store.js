'use strict';

// Node's trust store as PEM, for the prebuilt binary: its static libcurl has
// no CA bundle of its own, so HTTPS verifies against the same certificates
// Node's https module does. Built against the system libcurl, the addon says
// it needs none (needsTrustStore false) and uses the system's bundle.

const fs = require('node:fs');
const tls = require('node:tls');

/**
 * The certificates Node trusts by default, concatenated PEM:
 * tls.getCACertificates('default') where it exists (Node 22.15+, 23.5+: the
 * bundled roots, NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system's),
 * else tls.rootCertificates plus the NODE_EXTRA_CA_CERTS file.
 * @returns {string}
 */
function nodeTrustStore() {
  if (typeof tls.getCACertificates === 'function') return tls.getCACertificates('default').join('\n');
  const certs = [...tls.rootCertificates];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      certs.push(fs.readFileSync(extra, 'latin1'));
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at startup.
    }
  }
  return certs.join('\n');
}

module.exports = { nodeTrustStore };

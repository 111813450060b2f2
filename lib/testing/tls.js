'use strict';

// A throwaway certificate authority and a localhost server certificate made with the `openssl`
// command, once per process. The files live in a temporary directory only while openssl runs; the
// PEM text is kept in memory and the directory is removed.

const { execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const CONFIG = `[req]
distinguished_name = dn
prompt = no

[dn]
CN = llm-relay mock provider CA

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(args, cwd) {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const detail =
        err.code === 'ENOENT'
          ? 'the openssl command was not found on PATH'
          : `openssl ${args[0]} failed: ${String(stderr || err.message).trim()}`;
      return reject(
        new Error(
          `startMockProvider({ tls: true }) needs the openssl command to make a test certificate authority: ${detail}. Install openssl or pass tls: { key, cert }.`,
        ),
      );
    });
  });
}

async function generate() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'llm-relay-mock-tls-'));
  try {
    await fs.writeFile(path.join(dir, 'openssl.cnf'), CONFIG);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await openssl(
      [
        'req',
        '-x509',
        '-config',
        'openssl.cnf',
        '-extensions',
        'v3_ca',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '30',
      ],
      dir,
    );
    await openssl(
      [
        'req',
        '-new',
        '-config',
        'openssl.cnf',
        ...ec,
        '-subj',
        '/CN=localhost',
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
      ],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${crypto.randomBytes(16).toString('hex')}`,
        '-days',
        '30',
        '-extfile',
        'openssl.cnf',
        '-extensions',
        'v3_server',
        '-out',
        'server.pem',
      ],
      dir,
    );
    const [ca, key, cert] = await Promise.all(
      ['ca.pem', 'server.key', 'server.pem'].map((f) => fs.readFile(path.join(dir, f), 'utf8')),
    );
    return Object.freeze({ ca, key, cert });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

let cached;

/**
 * The per-process test CA and a server certificate for localhost, 127.0.0.1 and ::1.
 * @returns {Promise<{ca: string, key: string, cert: string}>} PEM strings
 */
function getTestCertificates() {
  if (!cached) {
    cached = generate().catch((err) => {
      cached = undefined;
      throw err;
    });
  }
  return cached;
}

module.exports = { getTestCertificates };

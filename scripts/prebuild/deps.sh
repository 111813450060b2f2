#!/usr/bin/env bash
# Builds the static libraries the prebuilt addon links: zlib, mbedTLS,
# nghttp2 and libcurl (HTTP/HTTPS only, HTTP/2), all with CMake (Debian's
# patches touch configure.ac, which CMake never reads, so no autoreconf).
# Usage: deps.sh SRC_DIR PREFIX
#   SRC_DIR holds one unpacked, patched source tree per library (the
#   directories scripts/prebuild/build.sh prepares); the libraries and their
#   headers are installed under PREFIX. Runs inside the build root.
set -euo pipefail
src=$1
prefix=$2
jobs=${JOBS:-2}
mkdir -p "$prefix"

# Position-independent (they end up in a shared object) and hidden: nothing of
# them is exported, and --exclude-libs,ALL at link time keeps it that way.
export CFLAGS="-O2 -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections"
common=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF)

build() {  # NAME [cmake args...]
  local name=$1
  shift
  echo "--- $name"
  cmake -S "$src/$name" -B "$src/$name/_build" "${common[@]}" "$@" > "$src/$name.configure.log" ||
    { tail -40 "$src/$name.configure.log"; exit 1; }
  cmake --build "$src/$name/_build" -j "$jobs" > "$src/$name.build.log" ||
    { tail -40 "$src/$name.build.log"; exit 1; }
  cmake --install "$src/$name/_build" > /dev/null
}

# zlib: curl decodes gzip/deflate bodies with it (the system libcurl does too).
# Its CMake file always builds the shared library as well: only the .a is used.
# Debian's repacked tarball drops win32/, whose resource file the CMake file
# lists for the shared library even on Linux (it is never compiled there).
mkdir -p "$src/zlib/win32" && touch "$src/zlib/win32/zlib1.rc"
build zlib -DZLIB_BUILD_EXAMPLES=OFF
rm -f "$prefix"/lib/libz.so*

# mbedTLS: the same configuration switches as Debian's package (threading on:
# one engine per Node environment, each on its own thread, shares PSA state).
cfg="$src/mbedtls/include/mbedtls/mbedtls_config.h"
for opt in MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD; do
  sed -i "s|^//#define $opt\$|#define $opt|" "$cfg"
  grep -q "^#define $opt\$" "$cfg" || { echo "could not enable $opt in $cfg" >&2; exit 1; }
done
build mbedtls -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DMBEDTLS_FATAL_WARNINGS=OFF \
  -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON

build nghttp2 -DENABLE_LIB_ONLY=ON -DBUILD_STATIC_LIBS=ON -DENABLE_DOC=OFF -DENABLE_FAILMALLOC=OFF

# libcurl: HTTP and HTTPS only, no CA bundle or path compiled in (Node's trust
# store is handed over at run time), no external resolver or IDN/PSL/SSH.
build curl -DBUILD_STATIC_LIBS=ON -DBUILD_CURL_EXE=OFF -DHTTP_ONLY=ON -DCURL_USE_PKGCONFIG=OFF \
  -DCURL_USE_MBEDTLS=ON -DCURL_USE_OPENSSL=OFF -DUSE_NGHTTP2=ON -DCURL_ZLIB=ON -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF \
  -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_GSSAPI=OFF -DENABLE_ARES=OFF \
  -DENABLE_THREADED_RESOLVER=ON -DCURL_DISABLE_WEBSOCKETS=ON -DCURL_DISABLE_COOKIES=ON -DCURL_DISABLE_ALTSVC=ON \
  -DCURL_DISABLE_HSTS=ON -DCURL_DISABLE_NETRC=ON -DCURL_DISABLE_DOH=ON -DCURL_DISABLE_NTLM=ON \
  -DCURL_DISABLE_KERBEROS_AUTH=ON -DCURL_DISABLE_NEGOTIATE_AUTH=ON -DCURL_DISABLE_AWS=ON \
  -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none -DCURL_CA_FALLBACK=OFF \
  -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF -DENABLE_CURL_MANUAL=OFF -DBUILD_EXAMPLES=OFF \
  -DMBEDTLS_INCLUDE_DIR="$prefix/include" -DMBEDTLS_LIBRARY="$prefix/lib/libmbedtls.a" \
  -DMBEDX509_LIBRARY="$prefix/lib/libmbedx509.a" -DMBEDCRYPTO_LIBRARY="$prefix/lib/libmbedcrypto.a" \
  -DNGHTTP2_INCLUDE_DIR="$prefix/include" -DNGHTTP2_LIBRARY="$prefix/lib/libnghttp2.a" \
  -DZLIB_INCLUDE_DIR="$prefix/include" -DZLIB_LIBRARY="$prefix/lib/libz.a"
grep -E 'HTTP2|mbedTLS|libz|Enabled (features|protocols)' "$src/curl.configure.log" || true
ls -l "$prefix"/lib/*.a

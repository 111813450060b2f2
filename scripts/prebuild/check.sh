#!/usr/bin/env bash
# Checks a prebuilt addon is self-contained and portable:
#   - NEEDED: only libc, libm, libstdc++, libgcc_s, libpthread, libdl and the loader;
#   - it exports only the Node-API entry points;
#   - every symbol it takes from outside is either a Node-API/libuv function
#     (from the node binary) or a versioned libc/libstdc++/libgcc one, so no
#     curl, TLS, nghttp2, zlib or brotli symbol can bind to Node's copies;
#   - the highest symbol versions it needs: GLIBC <= 2.28, GLIBCXX <= 3.4.22,
#     CXXABI <= 1.3.11 (the floor of Node's own Linux binaries).
# Usage: check.sh path/to/llm_relay.node
set -euo pipefail
node_file=${1:?usage: check.sh path/to/llm_relay.node}
[ -f "$node_file" ] || { echo "check: $node_file not found" >&2; exit 1; }
failed=0
bad() { printf 'check: FAIL %s\n' "$*" >&2; failed=1; }
ok() { printf 'check: ok   %s\n' "$*"; }

# Highest version in a list like "2.2.5 2.14 2.28" (sort -V).
max_version() { tr ' ' '\n' | sed '/^$/d' | sort -V | tail -1; }
# True when $1 <= $2 as versions.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }

needed=$(readelf -d "$node_file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
allowed=' libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 '
unexpected=""
for lib in $needed; do
  case "$allowed" in *" $lib "*) ;; *) unexpected+="$lib " ;; esac
done
if [ -n "$unexpected" ]; then bad "NEEDED has $unexpected(all: $needed)"; else ok "NEEDED: $needed"; fi

exports=$(nm -D --defined-only "$node_file" | awk '{print $NF}' | sort | tr '\n' ' ')
if [ "$exports" = "napi_register_module_v1 node_api_module_get_api_version_v1 " ]; then
  ok "exports: $exports"
else
  bad "exports are '$exports' (expected only napi_register_module_v1 node_api_module_get_api_version_v1)"
fi

# Undefined symbols without a version come from the process (node): only
# Node-API and libuv may be among them.
unversioned=$(nm -D --undefined-only "$node_file" | awk '{print $NF}' | grep -v '@' |
  grep -vE '^(napi_|node_api_|uv_)' | grep -vE '^(__gmon_start__|_ITM_.*|__cxa_finalize)$' | tr '\n' ' ' || true)
if [ -n "$unversioned" ]; then
  bad "symbols that would bind to whatever the process exports: $unversioned"
else
  ok "no unversioned imports besides napi_*/uv_* (nothing binds to Node's OpenSSL, nghttp2, zlib, brotli)"
fi
for prefix in SSL_ EVP_ nghttp2_ inflate deflate Brotli curl_ mbedtls_; do
  if nm -D "$node_file" | awk '{print $NF}' | grep -q "^$prefix"; then bad "a dynamic symbol starts with $prefix"; fi
done

versions=$(objdump -T "$node_file" | grep -oE '\b(GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+' | sort -u)
glibc=$(echo "$versions" | sed -n 's/^GLIBC_//p' | max_version)
glibcxx=$(echo "$versions" | sed -n 's/^GLIBCXX_//p' | max_version)
cxxabi=$(echo "$versions" | sed -n 's/^CXXABI_//p' | max_version)
if version_le "${glibc:-0}" 2.28; then ok "highest GLIBC_${glibc}"; else bad "needs GLIBC_${glibc} (> 2.28): $(objdump -T "$node_file" | grep "GLIBC_${glibc}" | awk '{print $NF}' | tr '\n' ' ')"; fi
if version_le "${glibcxx:-0}" 3.4.22; then ok "highest GLIBCXX_${glibcxx:-none}"; else bad "needs GLIBCXX_${glibcxx} (> 3.4.22): $(objdump -T "$node_file" | grep "GLIBCXX_${glibcxx}" | awk '{print $NF}' | tr '\n' ' ')"; fi
if version_le "${cxxabi:-0}" 1.3.11; then ok "highest CXXABI_${cxxabi:-none}"; else bad "needs CXXABI_${cxxabi} (> 1.3.11)"; fi

size=$(stat -c %s "$node_file")
gz=$(gzip -9c "$node_file" | wc -c)
printf 'check: size %s bytes (%s KiB), gzipped %s bytes (%s KiB)\n' "$size" $((size / 1024)) "$gz" $((gz / 1024))
exit "$failed"

# LLMRELAY_BUNDLED_DEPS: link the static libcurl (HTTP/HTTPS only, HTTP/2),
# nghttp2, mbedTLS and zlib that scripts/prebuild/deps.sh installed under
# LLMRELAY_DEPS_PREFIX, instead of the system's libcurl. This is how the
# prebuilt binary is made: nothing but libc, libm, libstdc++ and libgcc_s is
# needed at run time, and nothing binds to the OpenSSL, nghttp2 or zlib that
# Node exports (every symbol of these libraries stays hidden:
# --exclude-libs,ALL and the version script).
#
# Sets LLMRELAY_CURL_INCLUDE_DIR and LLMRELAY_CURL_LIBRARIES.
set(LLMRELAY_DEPS_PREFIX "" CACHE PATH "Where scripts/prebuild/deps.sh installed the static libraries")
if(NOT LLMRELAY_DEPS_PREFIX OR NOT EXISTS "${LLMRELAY_DEPS_PREFIX}/include/curl/curl.h")
  llmrelay_missing("llm-relay: LLMRELAY_BUNDLED_DEPS needs LLMRELAY_DEPS_PREFIX (the static libraries of scripts/prebuild/deps.sh); got '${LLMRELAY_DEPS_PREFIX}'")
endif()

set(LLMRELAY_CURL_INCLUDE_DIR "${LLMRELAY_DEPS_PREFIX}/include")
set(LLMRELAY_CURL_LIBRARIES "")
# Link order: each library before the ones it uses.
foreach(name curl nghttp2 mbedtls mbedx509 mbedcrypto z)
  set(archive "${LLMRELAY_DEPS_PREFIX}/lib/lib${name}.a")
  if(NOT EXISTS "${archive}")
    llmrelay_missing("llm-relay: ${archive} not found: run scripts/prebuild/deps.sh first")
  endif()
  list(APPEND LLMRELAY_CURL_LIBRARIES "${archive}")
endforeach()
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
list(APPEND LLMRELAY_CURL_LIBRARIES Threads::Threads)
# The static libcurl: its headers must not declare the functions dllimport-ish
# (no effect on Linux, but curl asks for it), and the transport knows to take
# the trust store from Node (no CA bundle is compiled in).
set(LLMRELAY_CURL_DEFINITIONS CURL_STATICLIB LLMRELAY_BUNDLED_CURL=1)
# The static libraries were compiled with -ffunction-sections: drop what the
# addon never reaches (unused ciphers, protocols).
set(LLMRELAY_CURL_LINK_OPTIONS -Wl,--gc-sections)

# Sanitizer builds and the engine stress test. Never part of the shipped
# addon: they go to their own build directories (.ci/stages/asan.sh,
# .ci/stages/tsan.sh) and leave build/Release alone.
#
#   LLMRELAY_SANITIZE=address  AddressSanitizer + UndefinedBehaviorSanitizer
#                              (ON means the same); UB findings abort.
#   LLMRELAY_SANITIZE=thread   ThreadSanitizer.
#   LLMRELAY_STRESS=ON         builds llmrelay_stress (test/stress/): the
#                              engine, handoff and transport against an
#                              in-process SSE server. It links the system
#                              libuv (libuv1-dev) instead of Node's, because
#                              it runs without Node.
#
# Included at the end of CMakeLists.txt, so it works on the targets defined
# there.

set(LLMRELAY_SANITIZE OFF CACHE STRING "Sanitizers to build with: OFF, address (ASan+UBSan) or thread (TSan)")
set_property(CACHE LLMRELAY_SANITIZE PROPERTY STRINGS OFF address thread)
option(LLMRELAY_STRESS "Build the engine stress test (test/stress, needs libuv1-dev)" OFF)

# --- The stress test -------------------------------------------------------------------
if(LLMRELAY_STRESS)
  find_package(GTest REQUIRED)
  find_package(Threads REQUIRED)
  find_package(PkgConfig)
  if(PkgConfig_FOUND)
    pkg_check_modules(LIBUV IMPORTED_TARGET libuv)
  endif()
  if(NOT LIBUV_FOUND)
    message(NOTICE "llm-relay: the stress test needs the system libuv. Install it: sudo apt-get install libuv1-dev pkg-config")
    message(FATAL_ERROR "llm-relay: missing build dependency (see the line above)")
  endif()
  # Every source of the addon but the Node-API binding: whatever src/ holds
  # outside llmrelay_core and src/binding/, so the list follows the layout.
  file(GLOB_RECURSE LLMRELAY_STRESS_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cc)
  list(FILTER LLMRELAY_STRESS_SOURCES EXCLUDE REGEX "/src/binding/")
  get_target_property(core_sources llmrelay_core SOURCES)
  foreach(source ${core_sources})
    get_filename_component(source "${source}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(REMOVE_ITEM LLMRELAY_STRESS_SOURCES "${source}")
  endforeach()
  file(GLOB stress_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test/stress/*.cc)
  add_executable(llmrelay_stress ${LLMRELAY_STRESS_SOURCES} ${stress_tests})
  # Only the system uv.h is on this target's include path (never Node's, which
  # may be another libuv version); the test checks uv_version() against
  # UV_VERSION_HEX at run time as well.
  target_include_directories(llmrelay_stress PRIVATE ${CURL_INCLUDE_DIR})
  target_link_libraries(llmrelay_stress PRIVATE
    llmrelay_core PkgConfig::LIBUV ${CURL_GNUTLS_LIBRARY} GTest::gtest Threads::Threads)
endif()

# --- Sanitizer flags ---------------------------------------------------------------------
if(LLMRELAY_SANITIZE STREQUAL "ON" OR LLMRELAY_SANITIZE STREQUAL "address")
  # -fno-sanitize-recover: any UB finding ends the process with an error, so
  # a test run cannot pass with a report buried in its output.
  set(LLMRELAY_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(LLMRELAY_SANITIZE STREQUAL "thread")
  set(LLMRELAY_SANITIZE_FLAGS -fsanitize=thread)
elseif(LLMRELAY_SANITIZE AND NOT LLMRELAY_SANITIZE STREQUAL "OFF")
  message(FATAL_ERROR "llm-relay: expected OFF, address or thread for LLMRELAY_SANITIZE but received '${LLMRELAY_SANITIZE}'")
endif()

if(LLMRELAY_SANITIZE_FLAGS)
  foreach(target llmrelay_core ${PROJECT_NAME} llmrelay_tests llmrelay_stress)
    if(TARGET ${target})
      # -O1 -g after the build type's flags: readable stacks, still fast.
      target_compile_options(${target} PRIVATE ${LLMRELAY_SANITIZE_FLAGS} -fno-omit-frame-pointer -g -O1)
      get_target_property(type ${target} TYPE)
      if(NOT type STREQUAL "STATIC_LIBRARY")
        target_link_options(${target} PRIVATE ${LLMRELAY_SANITIZE_FLAGS})
      endif()
    endif()
  endforeach()
  # RapidJSON's SSE2 whitespace skip loads aligned 16-byte blocks that may
  # reach past the end of the string (harmless within a page, but ASan reports
  # it: Tencent/rapidjson#1227), which would drown real findings.
  foreach(property COMPILE_DEFINITIONS INTERFACE_COMPILE_DEFINITIONS)
    get_target_property(definitions llmrelay_core ${property})
    if(definitions)
      list(REMOVE_ITEM definitions RAPIDJSON_SSE2=1)
      set_target_properties(llmrelay_core PROPERTIES ${property} "${definitions}")
    endif()
  endforeach()
endif()

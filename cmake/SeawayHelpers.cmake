# Small helpers that keep every CMakeLists.txt short and uniform.
#
#   seaway_library(name SOURCES a.cc b.cc DEPS other_lib ...)
#   seaway_test(name SOURCES a_test.cc DEPS lib ... [LABELS unit])
#   seaway_fuzzer(name SOURCES fuzz.cc DEPS lib ... CORPUS dir)

# Warnings that apply to our own code only (third-party headers are included as SYSTEM).
# Designated initializers that leave fields at their defaults are intended, not a mistake.
set(SEAWAY_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers)
# GCC 12 reports -Wmaybe-uninitialized false positives through std::variant (our Result<T>) at
# -O2; clang (asan preset) keeps checking initialisation, with sanitizers behind it.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND SEAWAY_WARNINGS -Wno-maybe-uninitialized)
endif()

if(SEAWAY_SANITIZE)
  set(SEAWAY_SANITIZE_FLAGS -fsanitize=${SEAWAY_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${SEAWAY_SANITIZE_FLAGS})
  add_link_options(${SEAWAY_SANITIZE_FLAGS})
endif()
if(SEAWAY_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(seaway_apply_defaults target)
  target_compile_options(${target} PRIVATE ${SEAWAY_WARNINGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
endfunction()

function(seaway_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  seaway_apply_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(seaway_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  seaway_apply_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# A GoogleTest binary registered with CTest. Each TEST becomes its own CTest entry so that the
# summary counts tests, and failures name the test.
function(seaway_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  seaway_apply_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 30)
endfunction()

# A libFuzzer target. With SEAWAY_FUZZ it is a real fuzzer; otherwise it links a small driver
# that replays every file of its seed corpus, so `make test` keeps the seeds (and every crasher
# saved there) passing.
function(seaway_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;CORPUS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  seaway_apply_defaults(${name})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(SEAWAY_FUZZ)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_link_libraries(${name} PRIVATE seaway_fuzz_replay)
    add_test(NAME fuzz_replay.${name} COMMAND ${name} ${ARG_CORPUS})
    set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()

# Locates every third-party library. All come from Debian packages listed in deps/debian.txt.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 CONFIG REQUIRED COMPONENTS headers)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)

find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)

# jemalloc as the allocator of the programs that carry load (the server, the load tools): glibc's
# malloc/free was a fifth of the broker's CPU under MQTT fan-in. Not under sanitizers, which
# bring their own allocator; libraries and tests keep the system's.
function(seaway_use_jemalloc target)
  if(NOT SEAWAY_SANITIZE)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()

# Asio without deprecated APIs; Beast and Asio stay inside src/net and src/http .cc files.
add_library(seaway_asio INTERFACE)
target_link_libraries(seaway_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(seaway_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

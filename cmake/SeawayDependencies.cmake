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

# Asio without deprecated APIs; Beast and Asio stay inside src/net and src/http .cc files.
add_library(seaway_asio INTERFACE)
target_link_libraries(seaway_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(seaway_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

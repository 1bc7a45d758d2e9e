// SW_CHECK: assertions for programmer errors only (src/common). Never for bad input: input errors
// are Status values. A failed check prints the condition and location and aborts, in every build.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SW_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) [[unlikely]] {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (false)

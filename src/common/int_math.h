// Integer arithmetic the standard library lacks (src/common).
#pragma once

#include <cstdint>

namespace seaway {

// a / b rounded toward negative infinity (C++ division truncates toward zero), so that times
// before 1970 fall into the bucket, hour or partition that holds them. REQUIRES: b != 0.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace seaway

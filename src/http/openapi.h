// The OpenAPI 3.0 document of the HTTP API (src/http), served at GET /api/v1/openapi.json.
//
// Built from the router itself: every route it holds, with the access the route declares
// (http/router.h) as its security requirement and `x-seaway-access`, and a summary written here
// per route. A route without a summary makes the document an error naming it, and
// tests/unit/server checks the server's document, so the two cannot drift apart.
//
// Thread-safe.
#pragma once

#include <string>

#include "common/result.h"
#include "http/router.h"

namespace seaway {

// The document as JSON; Internal naming every route without a summary.
Result<std::string> OpenApiDocument(const Router& router);

// Adds GET /api/v1/openapi.json (public), built from `router` at each request. `router` must
// outlive its routes.
void AddOpenApiRoute(Router* router);

}  // namespace seaway

// Fuzz target for thing model documents (src/platform/thing_model.h). Checks more than "does not
// crash": a document that parses exports to one that parses back equal and exports the same;
// errors carry a message; limits hold.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "platform/thing_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = seaway::ParseThingModel(text);
  if (!model.ok()) {
    FUZZ_CHECK(!model.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!model->table.empty());
  FUZZ_CHECK(model->properties.size() <= seaway::kMaxModelProperties);
  for (const auto& p : model->properties) {
    FUZZ_CHECK(model->FindProperty(p.name) == &p);
    FUZZ_CHECK(!(p.min && p.max) || *p.min <= *p.max);
  }
  const std::string exported = seaway::ThingModelToJson(*model);
  auto again = seaway::ParseThingModel(exported);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *model);
  FUZZ_CHECK(seaway::ThingModelToJson(*again) == exported);
  return 0;
}

// Tests of the SQLite ModelStore and the ModelCache over it (src/platform/model_store.h,
// model_cache.h): two tenants on one connection, as in the server.
#include "platform/model_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "platform/metadata_store.h"
#include "platform/model_cache.h"

namespace seaway {
namespace {

ThingModel Model(const std::string& name, double max = 100) {
  auto m = ParseThingModel(fmt::format(
      R"({{"name": "{}", "properties": [{{"name": "v", "type": "float", "max": {},
          "access": "read-only"}}]}})",
      name, max));
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : ThingModel{};
}

class ModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    auto metadata = OpenSqliteMetadataStore(db_);
    ASSERT_TRUE(metadata.ok()) << metadata.status();
    metadata_ = std::move(*metadata);
    auto models = OpenSqliteModelStore(db_);
    ASSERT_TRUE(models.ok()) << models.status();
    models_ = std::move(*models);
    a_ = *metadata_->CreateTenant("a");
    b_ = *metadata_->CreateTenant("b");
    a1_ = Device(a_, "m1");
    a2_ = Device(a_, "m2");
    b1_ = Device(b_, "m1");
  }

  DeviceId Device(TenantId tenant, const std::string& name) {
    auto d = metadata_->CreateDevice(tenant, NewDevice{name, std::nullopt});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->id : DeviceId();
  }

  std::shared_ptr<SqliteDatabase> db_;
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<ModelStore> models_;
  TenantId a_, b_;
  DeviceId a1_, a2_, b1_;
};

TEST_F(ModelStoreTest, CreateGetListReplaceDelete) {
  auto id = models_->CreateModel(a_, Model("mill"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(models_->CreateModel(a_, Model("mill")).status().code(), StatusCode::kAlreadyExists);
  auto other = models_->CreateModel(a_, Model("lathe"));
  ASSERT_TRUE(other.ok());

  auto got = models_->GetModel(a_, *id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->model, Model("mill"));
  EXPECT_EQ(got->devices, 0u);
  EXPECT_GT(got->created_ns, 0);

  auto list = models_->ListModels(a_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].model.name, "mill");
  EXPECT_EQ((*list)[1].model.name, "lathe");

  ASSERT_TRUE(models_->ReplaceModel(a_, *id, Model("mill", 7)).ok());
  EXPECT_EQ(models_->GetModel(a_, *id)->model.properties[0].max, 7);
  EXPECT_EQ(models_->ReplaceModel(a_, *id, Model("lathe")).code(), StatusCode::kAlreadyExists);

  ASSERT_TRUE(models_->DeleteModel(a_, *id).ok());
  EXPECT_EQ(models_->GetModel(a_, *id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->DeleteModel(a_, *id).code(), StatusCode::kNotFound);
}

TEST_F(ModelStoreTest, TenantsAreIsolated) {
  auto mine = models_->CreateModel(a_, Model("mill"));
  ASSERT_TRUE(mine.ok());
  // The same name in another tenant is another model.
  auto theirs = models_->CreateModel(b_, Model("mill"));
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(models_->ListModels(b_)->size(), 1u);

  // Tenant b reaches none of tenant a's models or devices.
  EXPECT_EQ(models_->GetModel(b_, *mine).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->ReplaceModel(b_, *mine, Model("x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->DeleteModel(b_, *mine).code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->AssignModel(b_, b1_, *mine).code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->AssignModel(b_, a1_, *theirs).code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->AssignModel(b_, a1_, std::nullopt).code(), StatusCode::kNotFound);
  EXPECT_EQ(models_->ModelOfDevice(b_, a1_).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(models_->AssignModel(a_, a1_, *mine).ok());
  // Device names are per tenant: b's m1 follows nothing.
  auto b_m1 = models_->ModelIdOfDevice(b_, "m1");
  ASSERT_TRUE(b_m1.ok());
  EXPECT_FALSE(b_m1->has_value());
  auto a_m1 = models_->ModelIdOfDevice(a_, "m1");
  ASSERT_TRUE(a_m1.ok() && a_m1->has_value());
  EXPECT_EQ(**a_m1, *mine);
  EXPECT_FALSE(models_->ModelIdOfDevice(a_, "nobody")->has_value());
  EXPECT_EQ(models_->GetModel(a_, *mine)->model.name, "mill");
  EXPECT_EQ(models_->GetModel(b_, *theirs)->devices, 0u);
}

TEST_F(ModelStoreTest, AssignUnassignAndDeleteRefusedWhileUsed) {
  auto id = models_->CreateModel(a_, Model("mill"));
  auto other = models_->CreateModel(a_, Model("lathe"));
  ASSERT_TRUE(id.ok() && other.ok());
  auto none = models_->ModelOfDevice(a_, a1_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(models_->AssignModel(a_, a1_, *id).ok());
  ASSERT_TRUE(models_->AssignModel(a_, a2_, *id).ok());
  EXPECT_EQ(models_->GetModel(a_, *id)->devices, 2u);
  const Status refused = models_->DeleteModel(a_, *id);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "model 'mill' is used by 2 devices: assign them another model or none first");

  ASSERT_TRUE(models_->AssignModel(a_, a1_, *other).ok());  // reassign
  EXPECT_EQ((*models_->ModelOfDevice(a_, a1_))->model.name, "lathe");
  EXPECT_EQ(models_->DeleteModel(a_, *id).message(),
            "model 'mill' is used by 1 device: assign them another model or none first");
  ASSERT_TRUE(models_->AssignModel(a_, a2_, std::nullopt).ok());
  EXPECT_FALSE(models_->ModelOfDevice(a_, a2_)->has_value());
  EXPECT_TRUE(models_->DeleteModel(a_, *id).ok());
  EXPECT_EQ(models_->AssignModel(a_, a2_, *id).code(), StatusCode::kNotFound);
}

// A provisioning key names a model of its tenant that exists: one that does not is refused
// when the key is made (not when a device first provisions with it); the model cannot be
// deleted while a key names it, and a renamed model's keys follow it.
TEST_F(ModelStoreTest, ProvisioningKeysNameModelsThatExist) {
  auto missing = metadata_->CreateProvisioningKey(a_, {"line-1", std::nullopt, "mill", 5});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument) << missing.status();
  EXPECT_EQ(missing.status().message(), "'model': thing model 'mill' does not exist");
  auto mill = models_->CreateModel(a_, Model("mill"));
  ASSERT_TRUE(mill.ok()) << mill.status();
  // Another tenant's model of that name is not this tenant's.
  EXPECT_EQ(
      metadata_->CreateProvisioningKey(b_, {"line-1", std::nullopt, "mill", 5}).status().code(),
      StatusCode::kInvalidArgument);
  auto key = metadata_->CreateProvisioningKey(a_, {"line-1", std::nullopt, "mill", 5});
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(metadata_->CreateProvisioningKey(a_, {"line-2", std::nullopt, "mill", 5}).ok());
  ASSERT_TRUE(metadata_->CreateProvisioningKey(a_, {"line-3", std::nullopt, "", 5}).ok());

  Status deleted = models_->DeleteModel(a_, *mill);
  EXPECT_EQ(deleted.code(), StatusCode::kFailedPrecondition) << deleted;
  EXPECT_EQ(deleted.message(),
            "model 'mill' is named by provisioning keys 'line-1', 'line-2': delete the keys first");

  // A new version under a new name: the keys name it by that name.
  ASSERT_TRUE(models_->ReplaceModel(a_, *mill, Model("mill-v2")).ok());
  auto keys = metadata_->ListProvisioningKeys(a_);  // the loop below outlives no temporary
  ASSERT_TRUE(keys.ok()) << keys.status();
  for (const ProvisioningKeyInfo& k : *keys) {
    EXPECT_EQ(k.model, k.name == "line-3" ? "" : "mill-v2") << k.name;
  }
  // A failed rename renames no key.
  ASSERT_TRUE(models_->CreateModel(a_, Model("lathe")).ok());
  EXPECT_EQ(models_->ReplaceModel(a_, *mill, Model("lathe")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*metadata_->ListProvisioningKeys(a_))[0].model, "mill-v2");

  ASSERT_TRUE(metadata_->DeleteProvisioningKey(a_, key->first.id).ok());
  deleted = models_->DeleteModel(a_, *mill);
  EXPECT_EQ(deleted.message(),
            "model 'mill-v2' is named by provisioning key 'line-2': delete the key first");
  ASSERT_TRUE(
      metadata_->DeleteProvisioningKey(a_, (*metadata_->ListProvisioningKeys(a_))[0].id).ok());
  EXPECT_TRUE(models_->DeleteModel(a_, *mill).ok());
}

TEST_F(ModelStoreTest, DeletingADeviceForgetsItsAssignment) {
  auto id = models_->CreateModel(a_, Model("mill"));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(models_->AssignModel(a_, a1_, *id).ok());
  ASSERT_TRUE(metadata_->DeleteDevice(a_, a1_).ok());
  EXPECT_EQ(models_->GetModel(a_, *id)->devices, 0u);
  EXPECT_FALSE(models_->ModelIdOfDevice(a_, "m1")->has_value());
  EXPECT_TRUE(models_->DeleteModel(a_, *id).ok());  // no longer used
}

TEST_F(ModelStoreTest, ReopeningKeepsModels) {
  auto id = models_->CreateModel(a_, Model("mill"));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(models_->AssignModel(a_, a1_, *id).ok());
  auto again = OpenSqliteModelStore(db_);  // CREATE TABLE IF NOT EXISTS: nothing lost
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->GetModel(a_, *id)->model, Model("mill"));
  EXPECT_EQ((*again)->GetModel(a_, *id)->devices, 1u);
}

TEST_F(ModelStoreTest, CacheAnswersFromMemoryAndForgetsOnChanges) {
  ModelCache cache(models_.get());
  auto id = cache.CreateModel(a_, Model("mill", 10));
  ASSERT_TRUE(id.ok());
  auto m = cache.ModelFor(a_, "m1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, nullptr);  // schemaless

  ASSERT_TRUE(cache.AssignModel(a_, a1_, *id).ok());  // through the cache: forgotten
  m = cache.ModelFor(a_, "m1");
  ASSERT_TRUE(m.ok() && *m != nullptr);
  EXPECT_EQ((*m)->properties[0].max, 10);
  EXPECT_EQ(*cache.ModelFor(b_, "m1"), nullptr);  // the other tenant's m1
  ASSERT_TRUE(cache.AssignModel(a_, a2_, *id).ok());
  EXPECT_EQ(*cache.ModelFor(a_, "m1"), *cache.ModelFor(a_, "m2"));  // one parsed copy, shared

  // A change made around the cache is not seen until Invalidate: it answers from memory.
  ASSERT_TRUE(models_->ReplaceModel(a_, *id, Model("mill", 20)).ok());
  EXPECT_EQ((*cache.ModelFor(a_, "m1"))->properties[0].max, 10);
  cache.Invalidate();
  EXPECT_EQ((*cache.ModelFor(a_, "m1"))->properties[0].max, 20);

  ASSERT_TRUE(cache.ReplaceModel(a_, *id, Model("mill", 30)).ok());
  EXPECT_EQ((*cache.ModelFor(a_, "m1"))->properties[0].max, 30);
  ASSERT_TRUE(cache.AssignModel(a_, a1_, std::nullopt).ok());
  EXPECT_EQ(*cache.ModelFor(a_, "m1"), nullptr);
  EXPECT_EQ(cache.DeleteModel(a_, *id).code(), StatusCode::kFailedPrecondition);  // m2's
  ASSERT_TRUE(cache.AssignModel(a_, a2_, std::nullopt).ok());
  EXPECT_TRUE(cache.DeleteModel(a_, *id).ok());
}

TEST_F(ModelStoreTest, CacheStartsAfreshWhenFull) {
  ModelCache cache(models_.get(), /*max_entries=*/4);
  auto id = cache.CreateModel(a_, Model("mill"));
  ASSERT_TRUE(cache.AssignModel(a_, a1_, *id).ok());
  for (int i = 0; i < 20; ++i) {
    auto m = cache.ModelFor(a_, fmt::format("unknown-{}", i));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, nullptr);
  }
  EXPECT_NE(*cache.ModelFor(a_, "m1"), nullptr);
}

}  // namespace
}  // namespace seaway

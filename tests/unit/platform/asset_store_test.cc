// Tests for the SQLite AssetStore (src/platform/asset_store.h): the hierarchy, moves and the
// cycles they may not make, the delete rules, attached devices, and tenant isolation.
#include "platform/asset_store.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace seaway {
namespace {

class AssetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status();
    auto metadata = OpenSqliteMetadataStore(*db);
    ASSERT_TRUE(metadata.ok()) << metadata.status();
    metadata_ = std::move(*metadata);
    auto assets = OpenSqliteAssetStore(*db);
    ASSERT_TRUE(assets.ok()) << assets.status();
    assets_ = std::move(*assets);
    auto tenant = metadata_->CreateTenant("acme");
    ASSERT_TRUE(tenant.ok());
    tenant_ = *tenant;
  }

  AssetId Create(std::string name, std::string type, std::optional<AssetId> parent = {},
                 TenantId tenant = TenantId()) {
    NewAsset a;
    a.name = std::move(name);
    a.type = std::move(type);
    a.parent = parent;
    auto id = assets_->CreateAsset(tenant == TenantId() ? tenant_ : tenant, a);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : AssetId();
  }

  DeviceId Device(std::string name, TenantId tenant = TenantId()) {
    auto d = metadata_->CreateDevice(tenant == TenantId() ? tenant_ : tenant, {std::move(name)});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->id : DeviceId();
  }

  std::vector<AssetId> Ids(const Result<std::vector<AssetInfo>>& assets) {
    EXPECT_TRUE(assets.ok()) << assets.status();
    std::vector<AssetId> out;
    if (assets.ok()) {
      for (const AssetInfo& a : *assets) out.push_back(a.id);
    }
    return out;
  }

  std::vector<DeviceId> DeviceIds(AssetId asset, bool recursive) {
    auto devices = assets_->ListAssetDevices(tenant_, asset, recursive);
    EXPECT_TRUE(devices.ok()) << devices.status();
    std::vector<DeviceId> out;
    if (devices.ok()) {
      for (const AssetDevice& d : *devices) out.push_back(d.device.id);
    }
    return out;
  }

  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<AssetStore> assets_;
  TenantId tenant_;
};

TEST_F(AssetStoreTest, BuildsAHierarchyAndListsItWithFilters) {
  const AssetId site = Create("lyon", "site");
  const AssetId line1 = Create("line-1", "line", site);
  const AssetId line2 = Create("line-2", "line", site);
  const AssetId press = Create("press", "machine", line1);
  const AssetId store = Create("store-12", "store");
  auto customer = metadata_->CreateCustomer(tenant_, "retail", std::nullopt);
  ASSERT_TRUE(customer.ok());
  NewAsset freezer{"freezer-a", "freezer", store, *customer, R"({ "setpoint_c" : -18 })"};
  auto freezer_id = assets_->CreateAsset(tenant_, freezer);
  ASSERT_TRUE(freezer_id.ok()) << freezer_id.status();

  auto got = assets_->GetAsset(tenant_, *freezer_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name, "freezer-a");
  EXPECT_EQ(got->type, "freezer");
  EXPECT_EQ(got->parent, store);
  EXPECT_EQ(got->customer, *customer);
  EXPECT_EQ(got->attributes, R"({"setpoint_c":-18})");
  EXPECT_GT(got->created_ns, 0);
  EXPECT_EQ(assets_->GetAsset(tenant_, site)->attributes, "{}");

  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {})),
            (std::vector{site, line1, line2, press, store, *freezer_id}));
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.parent = site})), (std::vector{line1, line2}));
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.top_level = true})), (std::vector{site, store}));
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.type = "line"})), (std::vector{line1, line2}));
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.customer = *customer})), (std::vector{*freezer_id}));
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.parent = site, .type = "machine"})),
            std::vector<AssetId>{});

  // Parents before children, by id within a level.
  EXPECT_EQ(Ids(assets_->Subtree(tenant_, site)), (std::vector{site, line1, line2, press}));
  EXPECT_EQ(Ids(assets_->Subtree(tenant_, press)), (std::vector{press}));
  EXPECT_EQ(assets_->Subtree(tenant_, AssetId(999)).status().code(), StatusCode::kNotFound);
}

TEST_F(AssetStoreTest, NamesAreUniqueAmongSiblings) {
  const AssetId a = Create("plant-a", "site");
  const AssetId b = Create("plant-b", "site");
  Create("line-1", "line", a);
  Create("line-1", "line", b);  // another parent: fine
  auto again = assets_->CreateAsset(tenant_, {"line-1", "line", a});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(),
            fmt::format("asset 'line-1' already exists under asset {}", a));
  auto top = assets_->CreateAsset(tenant_, {"plant-a", "site"});
  EXPECT_EQ(top.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(top.status().message(), "asset 'plant-a' already exists at the top level");
  // A rename into a sibling's name is refused too.
  const AssetId line2 = Create("line-2", "line", a);
  Status s = assets_->UpdateAsset(tenant_, line2, {.name = "line-1"});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(assets_->GetAsset(tenant_, line2)->name, "line-2");
}

TEST_F(AssetStoreTest, RefusesBadFields) {
  const AssetId site = Create("site", "site");
  auto code = [&](NewAsset a) { return assets_->CreateAsset(tenant_, a).status().code(); };
  EXPECT_EQ(code({"", "site"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"has space", "site"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"x", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"x", std::string(65, 't')}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"x", "line\n"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"x", "\xC3\x28"}), StatusCode::kInvalidArgument);      // not UTF-8
  EXPECT_EQ(code({"x", "euro\xE2\x82"}), StatusCode::kInvalidArgument);  // cut short
  EXPECT_EQ(code({"x", "\xED\xA0\x80"}), StatusCode::kInvalidArgument);  // a surrogate
  EXPECT_EQ(code({"x", "K\xC3\xBChlhaus"}), StatusCode::kOk);            // "Kühlhaus"
  EXPECT_EQ(code({"y", "site", {}, {}, "[1, 2]"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"y", "site", {}, {}, "{\"a\": "}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"y", "site", {}, {}, ""}), StatusCode::kInvalidArgument);
  const std::string big = "{\"a\":\"" + std::string(kMaxAssetAttributesBytes, 'x') + "\"}";
  auto too_big = assets_->CreateAsset(tenant_, {"y", "site", {}, {}, big});
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("16384"), std::string_view::npos) << too_big.status();
  EXPECT_EQ(code({"y", "site", AssetId(999)}), StatusCode::kNotFound);
  EXPECT_EQ(code({"y", "site", {}, CustomerId(999)}), StatusCode::kNotFound);
  // Nothing of that was stored.
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {})).size(), 2u);
  // The same checks on update, which then changes nothing.
  Status s = assets_->UpdateAsset(tenant_, site, {.type = "site-2", .attributes = "[]"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(assets_->GetAsset(tenant_, site)->type, "site");
}

TEST_F(AssetStoreTest, MovesAndRefusesCycles) {
  const AssetId site = Create("site", "site");
  const AssetId line1 = Create("line-1", "line", site);
  const AssetId line2 = Create("line-2", "line", site);
  const AssetId press = Create("press", "machine", line1);
  const AssetId die = Create("die", "tool", press);

  ASSERT_TRUE(assets_->UpdateAsset(tenant_, press, {.parent = std::optional(line2)}).ok());
  EXPECT_EQ(Ids(assets_->Subtree(tenant_, line2)), (std::vector{line2, press, die}));
  EXPECT_EQ(Ids(assets_->Subtree(tenant_, line1)), (std::vector{line1}));

  for (AssetId below : {line2, press, die}) {
    Status s = assets_->UpdateAsset(tenant_, line2, {.parent = std::optional(below)});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << below.value();
    EXPECT_EQ(s.message(), fmt::format("asset {} cannot move under asset {}: it would become its "
                                       "own ancestor",
                                       line2, below));
  }
  // A refused move changes nothing, not even the fields that came with it.
  Status s = assets_->UpdateAsset(tenant_, site, {.name = "renamed", .parent = std::optional(die)});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(assets_->GetAsset(tenant_, site)->name, "site");
  EXPECT_EQ(assets_->GetAsset(tenant_, site)->parent, std::nullopt);

  // To the top level, then under its former child's sibling.
  ASSERT_TRUE(
      assets_->UpdateAsset(tenant_, line2, {.parent = std::optional<AssetId>(std::nullopt)}).ok());
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {.top_level = true})), (std::vector{site, line2}));
  ASSERT_TRUE(assets_->UpdateAsset(tenant_, line2, {.parent = std::optional(line1)}).ok());
  EXPECT_EQ(Ids(assets_->Subtree(tenant_, site)), (std::vector{site, line1, line2, press, die}));
  // Updating without `parent` keeps it; customers are assigned and unassigned.
  auto customer = metadata_->CreateCustomer(tenant_, "factory", std::nullopt);
  ASSERT_TRUE(customer.ok());
  ASSERT_TRUE(assets_
                  ->UpdateAsset(tenant_, press,
                                {.type = "press",
                                 .attributes = R"({"tons": 200})",
                                 .customer = std::optional(*customer)})
                  .ok());
  auto got = assets_->GetAsset(tenant_, press);
  EXPECT_EQ(got->parent, line2);
  EXPECT_EQ(got->type, "press");
  EXPECT_EQ(got->attributes, R"({"tons":200})");
  EXPECT_EQ(got->customer, *customer);
  ASSERT_TRUE(
      assets_->UpdateAsset(tenant_, press, {.customer = std::optional<CustomerId>(std::nullopt)})
          .ok());
  EXPECT_EQ(assets_->GetAsset(tenant_, press)->customer, std::nullopt);
  EXPECT_EQ(assets_->UpdateAsset(tenant_, AssetId(999), {.name = "x"}).code(),
            StatusCode::kNotFound);
}

TEST_F(AssetStoreTest, DeleteRefusesChildrenUnlessRecursive) {
  const AssetId site = Create("site", "site");
  const AssetId line1 = Create("line-1", "line", site);
  const AssetId line2 = Create("line-2", "line", site);
  const AssetId press = Create("press", "machine", line1);
  const AssetId other = Create("other", "site");
  const DeviceId sensor = Device("sensor-1");
  ASSERT_TRUE(assets_->AttachDevice(tenant_, press, sensor).ok());

  Status s = assets_->DeleteAsset(tenant_, site, /*recursive=*/false);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), fmt::format("asset {} has 2 child assets: delete or move them first, or "
                                     "delete recursively",
                                     site));
  EXPECT_EQ(assets_->DeleteAsset(tenant_, line1, false).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(assets_->DeleteAsset(tenant_, line2, false).ok());
  EXPECT_EQ(assets_->GetAsset(tenant_, line2).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(assets_->DeleteAsset(tenant_, site, /*recursive=*/true).ok());
  EXPECT_EQ(Ids(assets_->ListAssets(tenant_, {})), (std::vector{other}));
  // The device remains, detached: it can join another asset.
  ASSERT_EQ(metadata_->ListDevices(tenant_)->size(), 1u);
  EXPECT_TRUE(assets_->AttachDevice(tenant_, other, sensor).ok());
  EXPECT_EQ(assets_->DeleteAsset(tenant_, site, true).code(), StatusCode::kNotFound);
  // A name of a deleted asset is free again.
  Create("site", "site");
}

TEST_F(AssetStoreTest, AttachesAndDetachesDevices) {
  const AssetId site = Create("site", "site");
  const AssetId line = Create("line", "line", site);
  const AssetId press = Create("press", "machine", line);
  const DeviceId gateway = Device("gateway");
  const DeviceId vibration = Device("vibration");
  const DeviceId spare = Device("spare");

  ASSERT_TRUE(assets_->AttachDevice(tenant_, site, gateway).ok());
  ASSERT_TRUE(assets_->AttachDevice(tenant_, press, vibration).ok());
  ASSERT_TRUE(assets_->AttachDevice(tenant_, press, vibration).ok());  // again: no change
  Status s = assets_->AttachDevice(tenant_, line, vibration);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            fmt::format("device {} is attached to asset {}: detach it first", vibration, press));
  EXPECT_EQ(assets_->AttachDevice(tenant_, press, DeviceId(999)).code(), StatusCode::kNotFound);
  EXPECT_EQ(assets_->AttachDevice(tenant_, AssetId(999), spare).code(), StatusCode::kNotFound);

  EXPECT_EQ(DeviceIds(site, false), (std::vector{gateway}));
  EXPECT_EQ(DeviceIds(site, true), (std::vector{gateway, vibration}));
  EXPECT_EQ(DeviceIds(line, false), std::vector<DeviceId>{});
  EXPECT_EQ(DeviceIds(line, true), (std::vector{vibration}));
  auto listed = assets_->ListAssetDevices(tenant_, site, true);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)[1].asset, press);
  EXPECT_EQ((*listed)[1].device.name, "vibration");

  Status detached = assets_->DetachDevice(tenant_, line, vibration);
  EXPECT_EQ(detached.code(), StatusCode::kNotFound);
  EXPECT_EQ(detached.message(),
            fmt::format("device {} is not attached to asset {}", vibration, line));
  ASSERT_TRUE(assets_->DetachDevice(tenant_, press, vibration).ok());
  EXPECT_EQ(DeviceIds(site, true), (std::vector{gateway}));
  ASSERT_TRUE(assets_->AttachDevice(tenant_, line, vibration).ok());
  EXPECT_EQ(DeviceIds(line, false), (std::vector{vibration}));
}

TEST_F(AssetStoreTest, DeletingADeviceDetachesIt) {
  const AssetId site = Create("site", "site");
  const DeviceId a = Device("a");
  const DeviceId b = Device("b");
  ASSERT_TRUE(assets_->AttachDevice(tenant_, site, a).ok());
  ASSERT_TRUE(assets_->AttachDevice(tenant_, site, b).ok());
  ASSERT_TRUE(metadata_->DeleteDevice(tenant_, a).ok());
  EXPECT_EQ(DeviceIds(site, false), (std::vector{b}));
  // Deleting an asset holding devices keeps the devices.
  ASSERT_TRUE(assets_->DeleteAsset(tenant_, site, false).ok());
  EXPECT_EQ(metadata_->ListDevices(tenant_)->size(), 1u);
}

// Another tenant's ids answer exactly as missing ones, for every operation.
TEST_F(AssetStoreTest, TenantsDoNotSeeEachOther) {
  auto beta = metadata_->CreateTenant("beta");
  ASSERT_TRUE(beta.ok());
  const AssetId site = Create("site", "site");
  const AssetId line = Create("line", "line", site);
  const DeviceId sensor = Device("sensor");
  ASSERT_TRUE(assets_->AttachDevice(tenant_, line, sensor).ok());
  auto acme_customer = metadata_->CreateCustomer(tenant_, "shop", std::nullopt);
  ASSERT_TRUE(acme_customer.ok());
  // Beta has an asset of the same name (names are per tenant) and a device of its own.
  const AssetId beta_site = Create("site", "site", {}, *beta);
  const DeviceId beta_sensor = Device("sensor", *beta);

  const AssetId missing(999);
  auto same_as_missing = [&](const Status& foreign, const Status& absent, AssetId id) {
    EXPECT_EQ(foreign.code(), StatusCode::kNotFound) << foreign;
    EXPECT_EQ(absent.code(), StatusCode::kNotFound) << absent;
    EXPECT_EQ(foreign.message(), fmt::format("asset {} does not exist", id));
    EXPECT_EQ(absent.message(), fmt::format("asset {} does not exist", missing));
  };
  same_as_missing(assets_->GetAsset(*beta, site).status(),
                  assets_->GetAsset(*beta, missing).status(), site);
  same_as_missing(assets_->UpdateAsset(*beta, site, {.name = "mine"}),
                  assets_->UpdateAsset(*beta, missing, {.name = "mine"}), site);
  same_as_missing(assets_->DeleteAsset(*beta, site, true),
                  assets_->DeleteAsset(*beta, missing, true), site);
  same_as_missing(assets_->AttachDevice(*beta, site, beta_sensor),
                  assets_->AttachDevice(*beta, missing, beta_sensor), site);
  same_as_missing(assets_->DetachDevice(*beta, line, sensor),
                  assets_->DetachDevice(*beta, missing, sensor), line);
  same_as_missing(assets_->ListAssetDevices(*beta, line, true).status(),
                  assets_->ListAssetDevices(*beta, missing, true).status(), line);
  same_as_missing(assets_->Subtree(*beta, site).status(), assets_->Subtree(*beta, missing).status(),
                  site);

  // Nor can beta reach acme's rows through its own assets.
  EXPECT_EQ(Ids(assets_->ListAssets(*beta, {})), (std::vector{beta_site}));
  EXPECT_EQ(Ids(assets_->ListAssets(*beta, {.parent = site})), std::vector<AssetId>{});
  EXPECT_EQ(assets_->CreateAsset(*beta, {"x", "line", site}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(assets_->CreateAsset(*beta, {"x", "line", {}, *acme_customer}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(assets_->UpdateAsset(*beta, beta_site, {.parent = std::optional(site)}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(
      assets_->UpdateAsset(*beta, beta_site, {.customer = std::optional(*acme_customer)}).code(),
      StatusCode::kNotFound);
  Status attach = assets_->AttachDevice(*beta, beta_site, sensor);
  EXPECT_EQ(attach.code(), StatusCode::kNotFound);
  EXPECT_EQ(attach.message(), fmt::format("device {} does not exist", sensor));
  EXPECT_EQ(assets_->DetachDevice(*beta, beta_site, sensor).code(), StatusCode::kNotFound);

  // Acme's rows are untouched.
  EXPECT_EQ(assets_->GetAsset(tenant_, site)->name, "site");
  EXPECT_EQ(DeviceIds(site, true), (std::vector{sensor}));
}

// Model test: random moves against an in-memory parent map. A move is refused exactly when the
// new parent is the asset or below it, and the store's subtrees always match the model's.
TEST_F(AssetStoreTest, RandomMovesKeepAForest) {
  std::mt19937 rng(7);
  std::map<AssetId, std::optional<AssetId>> parent;  // the model
  std::vector<AssetId> ids;
  for (int i = 0; i < 24; ++i) {
    std::optional<AssetId> p;
    if (!ids.empty() && rng() % 4 != 0) p = ids[rng() % ids.size()];
    const AssetId id = Create(fmt::format("a{}", i), "node", p);
    parent[id] = p;
    ids.push_back(id);
  }
  auto model_subtree = [&](AssetId root) {
    std::set<AssetId> out{root};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [child, p] : parent) {
        if (p && out.contains(*p) && out.insert(child).second) grew = true;
      }
    }
    return out;
  };
  int refused = 0;
  for (int step = 0; step < 400; ++step) {
    const AssetId id = ids[rng() % ids.size()];
    std::optional<AssetId> to;
    if (rng() % 5 != 0) to = ids[rng() % ids.size()];
    const bool cycle = to && model_subtree(id).contains(*to);
    Status s = assets_->UpdateAsset(tenant_, id, {.parent = std::optional(to)});
    ASSERT_EQ(s.ok(), !cycle) << "step " << step << ": " << s;
    if (cycle) {
      ++refused;
    } else {
      parent[id] = to;
    }
    const AssetId probe = ids[rng() % ids.size()];
    const std::vector<AssetId> got = Ids(assets_->Subtree(tenant_, probe));
    ASSERT_EQ(std::set<AssetId>(got.begin(), got.end()), model_subtree(probe)) << "step " << step;
  }
  EXPECT_GT(refused, 10);  // the walk did try cycles
}

TEST(AssetStoreFileTest, ReopeningKeepsAssetsAndTheirDevices) {
  char tmpl[] = "/tmp/seaway_assets_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/metadata.db";
  TenantId tenant;
  AssetId site;
  DeviceId device;
  for (int round = 0; round < 2; ++round) {
    auto db = SqliteDatabase::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    auto metadata = OpenSqliteMetadataStore(*db);
    ASSERT_TRUE(metadata.ok()) << metadata.status();
    auto assets = OpenSqliteAssetStore(*db);
    ASSERT_TRUE(assets.ok()) << assets.status();
    if (round == 0) {
      tenant = *(*metadata)->CreateTenant("acme");
      site = *(*assets)->CreateAsset(tenant, {"site", "site"});
      device = (*(*metadata)->CreateDevice(tenant, {"meter"})).id;
      ASSERT_TRUE((*assets)->AttachDevice(tenant, site, device).ok());
    } else {
      EXPECT_EQ((*assets)->GetAsset(tenant, site)->name, "site");
      auto devices = (*assets)->ListAssetDevices(tenant, site, false);
      ASSERT_TRUE(devices.ok());
      ASSERT_EQ(devices->size(), 1u);
      EXPECT_EQ((*devices)[0].device.id, device);
    }
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace seaway

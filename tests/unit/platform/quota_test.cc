// Tests for tenant settings (src/platform/tenant_settings.h) and QuotaEnforcer
// (src/platform/quota_enforcer.h), on a ManualClock.
#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/metadata_store.h"
#include "platform/quota_enforcer.h"
#include "platform/tenant_settings.h"

namespace seaway {
namespace {

using nlohmann::json;

TEST(TenantSettingsTest, MergePatchRoundTripsThroughStorage) {
  TenantSettings s;
  Status first = PatchTenantSettings(json{{"time_zone", "America/Chicago"},
                                          {"retention_s", 3600},
                                          {"quotas", {{"devices", 5}, {"stored_bytes", 1000}}}},
                                     &s);
  ASSERT_TRUE(first.ok()) << first;
  EXPECT_EQ(s.time_zone, "America/Chicago");
  EXPECT_EQ(s.retention_s, 3600);
  EXPECT_EQ(s.quotas.devices, 5u);
  EXPECT_EQ(s.quotas.stored_bytes, 1000u);
  EXPECT_FALSE(s.quotas.messages_per_s.has_value());
  auto parsed = ParseTenantSettings(SerializeTenantSettings(s));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, s);
  ASSERT_TRUE(PatchTenantSettings(json{{"quotas", {{"devices", nullptr}}}}, &s).ok());
  EXPECT_FALSE(s.quotas.devices.has_value());
  EXPECT_EQ(s.quotas.stored_bytes, 1000u);
  ASSERT_TRUE(PatchTenantSettings(json{{"quotas", nullptr}, {"time_zone", nullptr}}, &s).ok());
  EXPECT_EQ(s.quotas, Quotas());
  EXPECT_EQ(s.time_zone, "UTC");
  EXPECT_EQ(*ParseTenantSettings(""), TenantSettings());
}

TEST(TenantSettingsTest, ErrorsNameTheMemberAndChangeNothing) {
  TenantSettings s;
  s.time_zone = "Europe/Paris";
  const TenantSettings before = s;
  for (const auto& [patch, message] : std::vector<std::pair<json, std::string>>{
           {json::array(), "the settings must be a JSON object"},
           {{{"time_zone", 3}}, "'time_zone' must be a string"},
           {{{"time_zone", "Nowhere/Land"}}, "'time_zone': unknown time zone 'Nowhere/Land'"},
           {{{"retention_s", -5}}, "'retention_s' must be 1 to"},
           {{{"quotas", 7}}, "'quotas' must be an object"},
           {{{"quotas", {{"devices", 1.5}}}}, "'quotas.devices' must be an integer"},
           {{{"quotas", {{"bytes", 1}}}}, "'quotas.bytes' is not a quota"},
           {{{"time_zone", "UTC"}, {"x", 1}}, "'x' is not a tenant setting"}}) {
    Status st = PatchTenantSettings(patch, &s);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << patch;
    EXPECT_NE(st.message().find(message), std::string::npos) << st.message();
    EXPECT_EQ(s, before) << patch;
  }
  Quotas q;
  EXPECT_NE(PatchQuotas(json{{"stored_bytes", 10}}, &q).message().find("a tenant quota only"),
            std::string::npos);
  EXPECT_TRUE(PatchQuotas(json{{"stored_bytes", nullptr}, {"devices", 2}}, &q).ok());
  EXPECT_EQ(q.devices, 2u);
}

class QuotaEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteMetadataStore(":memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    tenant_ = *store_->CreateTenant("acme");
    enforcer_ = std::make_unique<QuotaEnforcer>(
        store_.get(), &clock_, [this](TenantId) { return stored_.load(); },
        /*stored_bytes_refresh_ns=*/1'000'000'000);
  }
  void SetQuotas(const json& quotas) {
    TenantSettings s;
    ASSERT_TRUE(PatchTenantSettings(json{{"quotas", quotas}}, &s).ok());
    ASSERT_TRUE(store_->SetTenantSettings(tenant_, s).ok());
    enforcer_->Invalidate(tenant_);
  }

  ManualClock clock_;
  std::atomic<uint64_t> stored_{0};
  std::unique_ptr<MetadataStore> store_;
  TenantId tenant_;
  std::unique_ptr<QuotaEnforcer> enforcer_;
};

TEST_F(QuotaEnforcerTest, NoQuotasNoLimits) {
  Principal who{tenant_};
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(enforcer_->AdmitRequest(who).ok());
    ASSERT_TRUE(enforcer_->AdmitMessages(tenant_, "d").ok());
  }
  EXPECT_TRUE(enforcer_->AdmitDevices(tenant_, std::nullopt, 1'000'000).ok());
}

TEST_F(QuotaEnforcerTest, MessagesRefillAtTheRate) {
  SetQuotas({{"messages_per_s", 10}});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok()) << i;
  Status refused = enforcer_->AdmitMessages(tenant_, "");
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "quota 'messages_per_s' of tenant 'acme' exceeded (10 per second); retry in 0.1 s");
  clock_.Advance(Duration::Millis(500));  // 5 more
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok()) << i;
  EXPECT_FALSE(enforcer_->AdmitMessages(tenant_, "").ok());
  clock_.Advance(Duration::Seconds(60));  // the bucket holds one second, not a minute
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok()) << i;
  EXPECT_FALSE(enforcer_->AdmitMessages(tenant_, "").ok());
  // Lifting the quota takes effect at once.
  SetQuotas(json::object());
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok());
}

TEST_F(QuotaEnforcerTest, CustomerQuotasFollowTheirDevicesAndUsers) {
  const CustomerId plant = *store_->CreateCustomer(tenant_, "plant", std::nullopt);
  Quotas quotas;
  quotas.messages_per_s = 2;
  quotas.api_requests_per_s = 1;
  ASSERT_TRUE(store_->UpdateCustomer(tenant_, plant, CustomerUpdate{{}, quotas}).ok());
  ASSERT_TRUE(store_->CreateDevice(tenant_, NewDevice{"press", plant}).ok());
  ASSERT_TRUE(store_->CreateDevice(tenant_, NewDevice{"free", std::nullopt}).ok());
  enforcer_->Invalidate(tenant_);
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "press").ok());
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "press").ok());
  Status refused = enforcer_->AdmitMessages(tenant_, "press");
  EXPECT_NE(refused.message().find("quota 'messages_per_s' of customer 'plant' exceeded"),
            std::string::npos)
      << refused;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "free").ok());
  Principal user{tenant_, UserId(1), plant, Role::kCustomerUser};
  EXPECT_TRUE(enforcer_->AdmitRequest(user).ok());
  EXPECT_NE(enforcer_->AdmitRequest(user).message().find(
                "quota 'api_requests_per_s' of customer 'plant' exceeded (1 per second)"),
            std::string::npos);
  EXPECT_TRUE(enforcer_->AdmitRequest(Principal{tenant_}).ok());
}

// A sub-customer's users and devices share the limits of every customer above it.
TEST_F(QuotaEnforcerTest, SubCustomersShareTheirAncestorsQuotas) {
  const CustomerId plant = *store_->CreateCustomer(tenant_, "plant", std::nullopt);
  const CustomerId line = *store_->CreateCustomer(tenant_, "line", plant);
  Quotas quotas;
  quotas.api_requests_per_s = 1;
  quotas.messages_per_s = 1;
  quotas.devices = 1;
  ASSERT_TRUE(store_->UpdateCustomer(tenant_, plant, CustomerUpdate{{}, quotas}).ok());
  ASSERT_TRUE(store_->CreateDevice(tenant_, NewDevice{"sub-press", line}).ok());
  enforcer_->Invalidate(tenant_);
  Principal sub_admin{tenant_, UserId(7), line, Role::kCustomerAdmin};
  EXPECT_TRUE(enforcer_->AdmitRequest(sub_admin).ok());
  EXPECT_NE(enforcer_->AdmitRequest(sub_admin).message().find("of customer 'plant'"),
            std::string::npos);
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "sub-press").ok());
  EXPECT_FALSE(enforcer_->AdmitMessages(tenant_, "sub-press").ok());
  EXPECT_NE(enforcer_->AdmitDevices(tenant_, line, 1)
                .message()
                .find("quota 'devices' of customer 'plant' reached: 1 of 1 devices"),
            std::string::npos);
}

TEST_F(QuotaEnforcerTest, StoredBytesAreReadAgainAfterTheRefreshInterval) {
  SetQuotas({{"stored_bytes", 1000}});
  stored_ = 999;
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok());
  stored_ = 1000;
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok()) << "read at most once a second";
  clock_.Advance(Duration::Seconds(1));
  Status refused = enforcer_->AdmitMessages(tenant_, "");
  EXPECT_EQ(refused.message(), "quota 'stored_bytes' of tenant 'acme' reached: 1000 of 1000 bytes");
  stored_ = 10;  // retention dropped a partition
  clock_.Advance(Duration::Seconds(1));
  EXPECT_TRUE(enforcer_->AdmitMessages(tenant_, "").ok());
}

TEST_F(QuotaEnforcerTest, DevicesCountWhatTheStoreHolds) {
  SetQuotas({{"devices", 2}});
  EXPECT_TRUE(enforcer_->AdmitDevices(tenant_, std::nullopt, 2).ok());
  EXPECT_EQ(enforcer_->AdmitDevices(tenant_, std::nullopt, 3).message(),
            "quota 'devices' of tenant 'acme' reached: 0 of 2 devices, 3 more asked");
  ASSERT_TRUE(store_->CreateDevice(tenant_, NewDevice{"a", std::nullopt}).ok());
  EXPECT_TRUE(enforcer_->AdmitDevices(tenant_, std::nullopt, 1).ok());
  ASSERT_TRUE(store_->CreateDevice(tenant_, NewDevice{"b", std::nullopt}).ok());
  EXPECT_FALSE(enforcer_->AdmitDevices(tenant_, std::nullopt, 1).ok());
}

// Creations racing for the last slots: holding LockDeviceChanges from the check to the creation,
// exactly the quota's worth of devices is made.
TEST_F(QuotaEnforcerTest, RacingCreationsStopAtTheQuota) {
  SetQuotas({{"devices", 5}});
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4; ++i) {
        auto admitting = enforcer_->LockDeviceChanges();
        if (!enforcer_->AdmitDevices(tenant_, std::nullopt, 1).ok()) continue;
        std::this_thread::yield();  // widen the window between the check and the creation
        if (store_->CreateDevice(tenant_, NewDevice{fmt::format("d-{}-{}", t, i), std::nullopt})
                .ok()) {
          ++created;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(store_->ListDevices(tenant_)->size(), 5u);
}

}  // namespace
}  // namespace seaway

// Tests for the SQLite MetadataStore and token hashing (src/platform/metadata_store.h).
#include "platform/metadata_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>

namespace seaway {
namespace {

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/seaway_meta_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/metadata.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<MetadataStore> Open() {
    auto store = OpenSqliteMetadataStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string dir_, path_;
};

TEST(TokenHashTest, KnownVectorAndRandomTokens) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = NewRandomToken();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), 64u);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(MetadataStoreTest, TenantsAndTokens) {
  auto store = Open();
  auto acme = store->CreateTenant("acme");
  ASSERT_TRUE(acme.ok()) << acme.status();
  auto beta = store->CreateTenant("beta");
  ASSERT_TRUE(beta.ok());
  EXPECT_NE(*acme, *beta);
  EXPECT_EQ(store->CreateTenant("acme").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateTenant("bad name!").status().message(),
            "tenant name 'bad name!': only letters, digits, '-', '_' and '.'");
  EXPECT_EQ(*store->FindTenant("beta"), *beta);
  EXPECT_EQ(store->FindTenant("zeta").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store->AddToken(*acme, "acme-secret-token-0001", "admin").ok());
  ASSERT_TRUE(store->AddToken(*beta, "beta-secret-token-0001", "admin").ok());
  EXPECT_EQ(*store->Authenticate("acme-secret-token-0001"), *acme);
  EXPECT_EQ(*store->Authenticate("beta-secret-token-0001"), *beta);
  auto denied = store->Authenticate("acme-secret-token-0002");
  EXPECT_EQ(denied.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(denied.status().message(), "invalid token");
  EXPECT_EQ(store->AddToken(*acme, "acme-secret-token-0001", "again").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->AddToken(*acme, "short", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddToken(TenantId(999), "orphan-token-000001", "x").code(),
            StatusCode::kNotFound);
}

TEST_F(MetadataStoreTest, PersistsAndStoresOnlyHashes) {
  TenantId acme;
  {
    auto store = Open();
    acme = *store->CreateTenant("acme");
    ASSERT_TRUE(store->AddToken(acme, "plaintext-token-must-not-leak", "admin").ok());
  }
  auto store = Open();
  EXPECT_EQ(*store->FindTenant("acme"), acme);
  EXPECT_EQ(*store->Authenticate("plaintext-token-must-not-leak"), acme);
  store.reset();
  // Nothing on disk (database and its WAL) holds the token itself.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("plaintext-token-must-not-leak"), std::string::npos) << entry.path();
  }
}

TEST_F(MetadataStoreTest, UnopenablePathIsAClearError) {
  auto store = OpenSqliteMetadataStore("/nonexistent-dir/x/metadata.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/x/metadata.db"), std::string_view::npos)
      << store.status();
}

}  // namespace
}  // namespace seaway

// Tests for Argon2id password hashing (src/platform/password.h). The default parameters cost
// about 50 ms per hash, so only DefaultParams uses them; the rest run with small ones.
#include "platform/password.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace seaway {
namespace {

constexpr PasswordParams kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};

// libargon2's own test vector (src/test.c): "password" with salt "somesalt", m=256, t=2.
constexpr std::string_view kReferenceP1 =
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
constexpr std::string_view kReferenceP2 =
    "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc";

// A syntactically valid string with the given parameter text; only parsed, never hashed.
std::string Encoded(std::string_view params) {
  return "$argon2id$v=19$" + std::string(params) + "$" + std::string(22, 'A') + "$" +
         std::string(43, 'B');
}

TEST(PasswordTest, DefaultParamsEncodeArgon2idAtOwaspMinimum) {
  auto encoded = HashPassword("correct horse battery staple");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  const std::string prefix = "$argon2id$v=19$m=19456,t=2,p=1$";
  ASSERT_EQ(encoded->substr(0, prefix.size()), prefix);
  // 16 salt bytes and 32 hash bytes as unpadded base64.
  EXPECT_EQ(encoded->size(), prefix.size() + 22 + 1 + 43) << *encoded;
  EXPECT_EQ((*encoded)[prefix.size() + 22], '$');
  EXPECT_FALSE(PasswordNeedsRehash(*encoded));

  auto match = VerifyPassword("correct horse battery staple", *encoded);
  ASSERT_TRUE(match.ok()) << match.status();
  EXPECT_TRUE(*match);
}

TEST(PasswordTest, VerifiesLibargon2ReferenceVectors) {
  for (std::string_view reference : {kReferenceP1, kReferenceP2}) {
    EXPECT_EQ(VerifyPassword("password", reference).value_or(false), true) << reference;
    EXPECT_EQ(VerifyPassword("passwore", reference).value_or(true), false) << reference;
  }
}

TEST(PasswordTest, RoundTripAndWrongPasswords) {
  const std::string password("s3cret\0with nul", 15);
  auto encoded = HashPassword(password, kFast);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->substr(0, 28), "$argon2id$v=19$m=64,t=1,p=1$");

  EXPECT_EQ(VerifyPassword(password, *encoded).value_or(false), true);
  for (std::string_view wrong : {"s3cret", "s3cret\0with nu", "S3cret\0with nul", "x"}) {
    auto match = VerifyPassword(wrong, *encoded);
    ASSERT_TRUE(match.ok()) << match.status();
    EXPECT_FALSE(*match);
  }
  // Passwords HashPassword refuses never match, whatever the encoded string.
  EXPECT_EQ(VerifyPassword("", *encoded).value_or(true), false);
  EXPECT_EQ(VerifyPassword(std::string(kMaxPasswordBytes + 1, 'a'), *encoded).value_or(true),
            false);
}

TEST(PasswordTest, EachHashHasItsOwnSalt) {
  auto a = HashPassword("same password", kFast);
  auto b = HashPassword("same password", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  // The salts differ, not only the hashes.
  EXPECT_NE(a->substr(0, 50), b->substr(0, 50));
  EXPECT_EQ(VerifyPassword("same password", *a).value_or(false), true);
  EXPECT_EQ(VerifyPassword("same password", *b).value_or(false), true);
}

TEST(PasswordTest, PasswordLengthLimits) {
  auto empty = HashPassword("", kFast);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "password must not be empty");

  auto too_long = HashPassword(std::string(kMaxPasswordBytes + 1, 'a'), kFast);
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().message(), "password is 1025 bytes, more than the 1024 allowed");

  const std::string longest(kMaxPasswordBytes, 'a');
  auto encoded = HashPassword(longest, kFast);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(VerifyPassword(longest, *encoded).value_or(false), true);
  EXPECT_EQ(VerifyPassword(std::string(1, 'a'), *encoded).value_or(true), false);
}

TEST(PasswordTest, ParamsOutsideLibargon2BoundsAreRefused) {
  const std::vector<PasswordParams> bad = {
      {.memory_kib = 7, .iterations = 1, .parallelism = 1},
      {.memory_kib = 64, .iterations = 0, .parallelism = 1},
      {.memory_kib = 64, .iterations = 1, .parallelism = 0},
      {.memory_kib = 15, .iterations = 1, .parallelism = 2},  // under 8 KiB per lane
      {.memory_kib = kMaxPasswordMemoryKib + 1, .iterations = 1, .parallelism = 1},
      {.memory_kib = 64, .iterations = kMaxPasswordIterations + 1, .parallelism = 1},
      {.memory_kib = 1024, .iterations = 1, .parallelism = kMaxPasswordParallelism + 1},
  };
  for (const PasswordParams& p : bad) {
    auto r = HashPassword("password", p);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument)
        << p.memory_kib << " " << p.iterations << " " << p.parallelism;
  }
  EXPECT_EQ(HashPassword("password", {.memory_kib = 7, .iterations = 1, .parallelism = 1})
                .status()
                .message(),
            "argon2id memory must be 8 to 1048576 KiB with parallelism 1, got 7");
  // The smallest accepted parameters, with two lanes.
  auto two_lanes = HashPassword("password", {.memory_kib = 16, .iterations = 1, .parallelism = 2});
  ASSERT_TRUE(two_lanes.ok()) << two_lanes.status();
  EXPECT_EQ(VerifyPassword("password", *two_lanes).value_or(false), true);
}

TEST(PasswordTest, MalformedAndOtherVariantsAreInvalidArgument) {
  const std::string ref(kReferenceP1);
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = ref;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "garbage",
      "$",
      "$argon2id$",
      replaced("$argon2id$", "$argon2i$"),
      replaced("$argon2id$", "$argon2d$"),
      replaced("$argon2id$", "$ARGON2ID$"),
      replaced("$v=19", ""),  // libargon2 would read this as version 0x10
      replaced("v=19", "v=16"),
      replaced("m=256", "m=0256"),
      replaced("m=256", "m=-256"),
      replaced("m=256", "m=4294967296"),
      replaced("m=256", "m=4"),
      replaced("m=256", "m=2000000"),  // over the 1 GiB bound
      replaced("t=2", "t=0"),
      replaced("t=2", "t=1000"),
      replaced("p=1", "p=0"),
      replaced("p=1", "p=33"),
      replaced("p=1", "p=1,x=2"),
      replaced("c29tZXNhbHQ", ""),
      replaced("c29tZXNhbHQ", "c29tZQ"),        // 4-byte salt
      replaced("c29tZXNhbHQ", "c29tZXNhbHQ="),  // padding
      replaced("c29tZXNhbHQ", "c29tZXNhbHQx"),  // 12 chars: ok length, but see below
      replaced("c29tZXNhbHQ", "c29tZXNh bHQ"),
      replaced("nf65EOgLrQMR", "nf65EOgLrQM-"),  // URL-safe alphabet
      replaced("/4", "/5"),                      // non-zero trailing bits
      ref + "$",
      ref + "A",
      ref + std::string(1, '\0'),
      std::string(ref).insert(20, 1, '\0'),
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + std::string(600, 'A'),
  };
  for (const std::string& encoded : bad) {
    auto r = VerifyPassword("password", encoded);
    // "c29tZXNhbHQx" decodes (9 bytes) and merely mismatches; every other string is refused.
    if (encoded == replaced("c29tZXNhbHQ", "c29tZXNhbHQx")) {
      EXPECT_EQ(r.value_or(true), false);
      continue;
    }
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << encoded << " -> " << r.status();
    EXPECT_EQ(r.status().message().find("c29tZXNhbHQ"), std::string_view::npos)
        << "the message quotes the encoded string: " << r.status();
    EXPECT_TRUE(PasswordNeedsRehash(encoded)) << encoded;
  }

  // Every truncation of a valid string is refused before any hashing.
  for (size_t n = 0; n < ref.size(); ++n) {
    EXPECT_EQ(VerifyPassword("password", ref.substr(0, n)).status().code(),
              StatusCode::kInvalidArgument)
        << ref.substr(0, n);
  }
}

TEST(PasswordTest, SingleByteMutationsNeverCrash) {
  const std::string ref(kReferenceP1);
  int matches = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    for (char c : {'\0', '$', ',', '=', '0', '9', 'A', '/', '\xff'}) {
      if (ref[i] == c) continue;
      std::string s = ref;
      s[i] = c;
      auto r = VerifyPassword("password", s);
      if (r.ok()) {
        matches += *r ? 1 : 0;
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << s << " -> " << r.status();
      }
    }
  }
  EXPECT_EQ(matches, 0);
}

TEST(PasswordTest, NeedsRehashWhenWeakerThanParams) {
  EXPECT_FALSE(PasswordNeedsRehash(Encoded("m=19456,t=2,p=1")));
  EXPECT_FALSE(PasswordNeedsRehash(Encoded("m=65536,t=3,p=4")));
  EXPECT_TRUE(PasswordNeedsRehash(Encoded("m=19455,t=2,p=1")));
  EXPECT_TRUE(PasswordNeedsRehash(Encoded("m=65536,t=1,p=1")));
  EXPECT_TRUE(PasswordNeedsRehash(kReferenceP1));

  const PasswordParams stronger{.memory_kib = 19456, .iterations = 2, .parallelism = 2};
  EXPECT_TRUE(PasswordNeedsRehash(Encoded("m=19456,t=2,p=1"), stronger));
  EXPECT_FALSE(PasswordNeedsRehash(Encoded("m=19456,t=2,p=2"), stronger));
  EXPECT_FALSE(PasswordNeedsRehash(kReferenceP1, {.memory_kib = 256, .iterations = 2}));

  EXPECT_TRUE(PasswordNeedsRehash(""));
  EXPECT_TRUE(PasswordNeedsRehash("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"));
  EXPECT_TRUE(PasswordNeedsRehash(
      "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"));
}

}  // namespace
}  // namespace seaway

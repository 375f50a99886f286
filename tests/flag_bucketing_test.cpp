// Feature-flag bucketing against the published test vectors of SHA-1, MurmurHash3, Unleash, flagd and
// LaunchDarkly, and the rollout properties the feature_flag strategy relies on (uniform, monotonic).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "strategies/flag_bucketing.hpp"

using namespace sim;

namespace {

constexpr FlagHash kAllHashes[] = {FlagHash::unleash, FlagHash::flagd, FlagHash::launchdarkly,
                                   FlagHash::deploysim};

std::vector<std::string> user_ids(int n) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ids.push_back("user-" + std::to_string(i));
  return ids;
}

std::string_view bytes(const std::vector<unsigned char>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

}  // namespace

TEST_CASE("strategies/flag_bucketing: SHA-1 matches the FIPS 180 test vectors", "[strategies]") {
  // FIPS 180-2 appendix A and the NIST SHA examples: one block, empty, two blocks, one million 'a'.
  CHECK(to_hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(to_hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // 448 bits: the padding no longer fits the first block.
  CHECK(to_hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const std::string million_a(1000000, 'a');
  CHECK(to_hex(sha1(million_a)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

  // Feeding the same message in uneven pieces exercises the partial-block buffering.
  Sha1 pieces;
  std::string_view rest = million_a;
  for (std::size_t step = 1; !rest.empty(); step = step % 97 + 13) {
    const std::size_t take = std::min(step, rest.size());
    pieces.update(rest.substr(0, take));
    rest.remove_prefix(take);
  }
  CHECK(to_hex(pieces.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("strategies/flag_bucketing: MurmurHash3 x86_32 matches the published vectors", "[strategies]") {
  // Each value appears in several independent public test suites (python mmh3's test_mmh3.py, Ian Boyd's
  // vectors, the Wikipedia examples); the SMHasher self-test below pins the whole function.
  CHECK(murmur3_32("", 0) == 0u);
  CHECK(murmur3_32("", 1) == 0x514E28B7u);
  CHECK(murmur3_32("", 0xFFFFFFFFu) == 0x81F16F39u);
  CHECK(murmur3_32("test", 0) == 0xBA6BD213u);
  CHECK(murmur3_32("Hello, world!", 0x9747B28Cu) == 0x24884CBAu);
  CHECK(murmur3_32("The quick brown fox jumps over the lazy dog", 0x9747B28Cu) == 0x2FA826CDu);
  // One to four bytes: every tail length.
  CHECK(murmur3_32("a", 0x9747B28Cu) == 0x7FA09EA6u);
  CHECK(murmur3_32("ab", 0x9747B28Cu) == 0x74875592u);
  CHECK(murmur3_32("abc", 0x9747B28Cu) == 0xC84A62DDu);
  CHECK(murmur3_32("abcd", 0x9747B28Cu) == 0xF0478627u);
  CHECK(murmur3_32(bytes({0xff, 0xff, 0xff, 0xff}), 0) == 0x76293B50u);
  CHECK(murmur3_32(bytes({0x21, 0x43, 0x65, 0x87}), 0x5082EDEEu) == 0x2362F9DEu);

  // Keys whose hash is exactly 0, 1, 2^31 - 1, 2^31 and 2^32 - 1, from the flagd-testbed
  // (open-feature/flagd-testbed, gherkin/targeting.feature, "Fractional operator hash edge cases").
  CHECK(murmur3_32("ejOoVL", 0) == 0u);
  CHECK(murmur3_32("bY9fO-", 0) == 1u);
  CHECK(murmur3_32("SI7p-", 0) == 2147483647u);
  CHECK(murmur3_32("6LvT0", 0) == 2147483648u);
  CHECK(murmur3_32("ceQdGm", 0) == 4294967295u);

  // SMHasher's VerificationTest: hash key[0..i) (key[j] = j) with seed 256 - i for i < 256, hash the 256
  // little-endian results with seed 0; MurmurHash3_x86_32's verification value is 0xB0F57EE3.
  std::vector<unsigned char> key(256), hashes(1024);
  for (std::size_t i = 0; i < 256; ++i) {
    key[i] = static_cast<unsigned char>(i);
    const std::uint32_t h = murmur3_32(std::string_view(reinterpret_cast<const char*>(key.data()), i),
                                       static_cast<std::uint32_t>(256 - i));
    for (std::size_t j = 0; j < 4; ++j) hashes[4 * i + j] = static_cast<unsigned char>(h >> (8 * j));
  }
  CHECK(murmur3_32(bytes(hashes), 0) == 0xB0F57EE3u);
}

TEST_CASE("strategies/flag_bucketing: Unleash normalizedHash and rollouts match the client vectors",
          "[strategies]") {
  // Unleash/unleash-client-node, src/test/strategy/util.test.ts (the same values in the Go and Java
  // clients: "normalized values are the same across node, java, and go clients").
  CHECK(normalized_hash("123", "gr1") == 73u);
  CHECK(normalized_hash("999", "groupX") == 25u);
  // Unleash/unleash-client-java, src/test/java/io/getunleash/strategy/StrategyUtilsTest.java: the variant
  // seed 86028157.
  CHECK(normalized_hash("123", "gr1", 100, kUnleashVariantSeed) == 96u);
  CHECK(normalized_hash("999", "groupX", 100, kUnleashVariantSeed) == 60u);

  // Unleash/client-specification, specifications/03-gradual-rollout-user-id-strategy.json: groupId AB12A
  // at 50 %: userId 122 enabled, 155 disabled; 0 % disables everyone.
  CHECK(unleash_in_rollout("122", "AB12A", 50));
  CHECK_FALSE(unleash_in_rollout("155", "AB12A", 50));
  CHECK_FALSE(unleash_in_rollout("122", "AB12A", 0));
  CHECK(unleash_in_rollout("123", "AB12A", 100));
  // specifications/10-flexible-rollout-strategy.json: the group id is the feature name.
  CHECK(unleash_in_rollout("174", "Feature.flexibleRollout.10", 10));
  CHECK_FALSE(unleash_in_rollout("499", "Feature.flexibleRollout.10", 10));
  CHECK(unleash_in_rollout("25", "Feature.flexibleRollout.userId.55", 55));
  CHECK(unleash_in_rollout("147", "Feature.flexibleRollout.sessionId.42", 42));

  // The common interface agrees with the same cases.
  CHECK(in_rollout(FlagHash::unleash, "Feature.flexibleRollout.10", "174", 10));
  CHECK_FALSE(in_rollout(FlagHash::unleash, "Feature.flexibleRollout.10", "499", 10));
  CHECK(in_rollout(FlagHash::unleash, "AB12A", "122", 50));
  CHECK_FALSE(in_rollout(FlagHash::unleash, "AB12A", "155", 50));
}

TEST_CASE("strategies/flag_bucketing: flagd fractional matches the flagd-testbed and core vectors",
          "[strategies]") {
  // open-feature/flagd-testbed: flags/custom-ops.json defines the flags, gherkin/targeting.feature the
  // expected variants, tagged @fractional-v2 (the current algorithm) and @fractional-v1 (before it).
  const std::vector<std::uint32_t> quarters = {25, 25, 25, 25};
  enum Suit : std::size_t { clubs, diamonds, hearts, spades, none };
  struct Case {
    const char* name;
    std::size_t v1;
    std::size_t v2;
  };
  // "fractional-flag": {"cat": [$flagd.flagKey, user.name]} over clubs, diamonds, hearts, spades.
  for (const Case& c :
       {Case{"jack", spades, hearts}, Case{"queen", clubs, spades}, Case{"ten", diamonds, clubs},
        Case{"nine", hearts, diamonds}, Case{"3", diamonds, clubs}}) {
    INFO(c.name);
    const std::string value = flagd_bucketing_value("fractional-flag", c.name);
    CHECK(flagd_fractional(value, quarters) == c.v2);
    CHECK(flagd_fractional_legacy(value, quarters) == c.v1);
  }
  // "fractional-flag-A-shared-seed": {"cat": ["shared-seed", user.name]}; v1 and v2 list different names.
  for (const Case& c : {Case{"jack", hearts, none}, Case{"queen", spades, none}, Case{"ten", hearts, none},
                        Case{"nine", diamonds, clubs}, Case{"seven", none, hearts},
                        Case{"eight", none, diamonds}, Case{"two", none, spades}}) {
    INFO(c.name);
    const std::string value = std::string("shared-seed") + c.name;
    if (c.v1 != none) CHECK(flagd_fractional_legacy(value, quarters) == c.v1);
    if (c.v2 != none) CHECK(flagd_fractional(value, quarters) == c.v2);
  }
  // "fractional-flag-shorthand": no bucketing expression, so flag key + targeting key; [heads], [tails, 1]
  // (a missing weight counts 1). Both versions: jon@company.com heads, jane@company.com tails.
  const std::vector<std::uint32_t> coin = {1, 1};
  for (auto [key, variant] : {std::pair{"jon@company.com", 0u}, std::pair{"jane@company.com", 1u}}) {
    INFO(key);
    const std::string value = flagd_bucketing_value("fractional-flag-shorthand", key);
    CHECK(flagd_fractional(value, coin) == variant);
    CHECK(flagd_fractional_legacy(value, coin) == variant);
  }
  // "fractional-hash-edge-flag" (v2 only): targetingKey over [lower, 50], [upper, 50].
  const std::vector<std::uint32_t> halves = {50, 50};
  CHECK(flagd_fractional("ejOoVL", halves) == 0u);
  CHECK(flagd_fractional("bY9fO-", halves) == 0u);
  CHECK(flagd_fractional("SI7p-", halves) == 0u);
  CHECK(flagd_fractional("6LvT0", halves) == 1u);
  CHECK(flagd_fractional("ceQdGm", halves) == 1u);

  // open-feature/flagd, core/pkg/evaluator/fractional_test.go as of the float-based algorithm (v1):
  // headerColor with {"cat": [$flagd.flagKey, email]} over red, blue, green, yellow at 25 each.
  enum Color : std::size_t { red, blue, green, yellow };
  CHECK(flagd_fractional_legacy(flagd_bucketing_value("headerColor", "rachel@faas.com"), quarters) == yellow);
  CHECK(flagd_fractional_legacy(flagd_bucketing_value("headerColor", "monica@faas.com"), quarters) == blue);
  CHECK(flagd_fractional_legacy(flagd_bucketing_value("headerColor", "joey@faas.com"), quarters) == red);
  CHECK(flagd_fractional_legacy(flagd_bucketing_value("headerColor", "ross@faas.com"), quarters) == green);
  // customSeededHeaderColor: {"cat": ["my-seed", email]}.
  CHECK(flagd_fractional_legacy("my-seedrachel@faas.com", quarters) == green);
  CHECK(flagd_fractional_legacy("my-seedmonica@faas.com", quarters) == red);
  CHECK(flagd_fractional_legacy("my-seedjoey@faas.com", quarters) == green);
  CHECK(flagd_fractional_legacy("my-seedross@faas.com", quarters) == green);
  // footerColor with {"var": "email"} alone; "non even split" hashes the literal string "email".
  CHECK(flagd_fractional_legacy("ross@faas.com", quarters) == red);
  CHECK(flagd_fractional_legacy("email", std::vector<std::uint32_t>{50, 25, 25}) == red);
  // "default to targetingKey if no bucket key provided": [blue, 50], [green, 50] gives blue.
  CHECK(flagd_fractional_legacy(flagd_bucketing_value("headerColor", "foo@foo.com"), halves) == 0u);

  // Derived from the v1 formula, not published: 2^31 - 1 and 2^31 map to buckets 100 and a little above,
  // past every variant, where flagd returned no variant.
  CHECK(flagd_fractional_legacy("SI7p-", halves) == 2u);
  CHECK(flagd_fractional_legacy("6LvT0", halves) == 2u);
  CHECK(flagd_fractional_legacy("ceQdGm", halves) == 0u);  // int32 -1: bucket 0

  CHECK(flagd_fractional("anything", std::vector<std::uint32_t>{0, 0}) == 2u);
  CHECK_THROWS_AS(flagd_fractional("x", std::vector<std::uint32_t>{2000000000u, 2000000000u}),
                  std::invalid_argument);
}

TEST_CASE("strategies/flag_bucketing: LaunchDarkly buckets match the SDK test values", "[strategies]") {
  // launchdarkly/go-server-sdk-evaluation, evaluator_bucketing_testdata_test.go (the same numbers in
  // launchdarkly/sdk-test-harness, sdktests/server_side_eval_bucketing.go, and the Ruby SDK's
  // bucket_user spec). The SDKs compute in float32, so the values must agree exactly.
  CHECK(launchdarkly_bucket("hashKey", "saltyA", "userKeyA") == 0.42157587f);
  CHECK(launchdarkly_bucket("hashKey", "saltyA", "userKeyB") == 0.6708485f);
  CHECK(launchdarkly_bucket("hashKey", "saltyA", "userKeyC") == 0.10343106f);
  // Integer attributes are bucketed by their decimal string.
  CHECK(launchdarkly_bucket("hashKey", "saltyA", "33333") == 0.54771423f);
  CHECK(launchdarkly_bucket("hashKey", "saltyA", "99999") == 0.7309658f);
  // Seeded rollouts and experiments hash "seed.key" (seed 61).
  CHECK(launchdarkly_bucket_seeded(61, "userKeyA") == 0.09801207f);
  CHECK(launchdarkly_bucket_seeded(61, "userKeyB") == 0.14483777f);
  CHECK(launchdarkly_bucket_seeded(61, "userKeyC") == 0.9242641f);
  // evaluator_segment_test.go, TestSegmentRulePercentageRollout: segment "segkey", salt "salty".
  CHECK(launchdarkly_bucket("segkey", "salty", "userKeyA") == 0.14574753f);
  CHECK(launchdarkly_bucket("segkey", "salty", "userKeyZ") == 0.45679215f);

  // The common interface uses the flag key as the salt.
  CHECK(flag_bucket(FlagHash::launchdarkly, "hashKey", "userKeyA") ==
        static_cast<double>(launchdarkly_bucket("hashKey", "hashKey", "userKeyA")));
}

TEST_CASE("strategies/flag_bucketing: flag hash names round-trip", "[strategies]") {
  for (FlagHash h : kAllHashes) CHECK(parse_flag_hash(to_string(h)) == h);
  CHECK(std::string(to_string(FlagHash::launchdarkly)) == "launchdarkly");
  CHECK_THROWS_WITH(parse_flag_hash("murmur"), Catch::Contains("'murmur'") && Catch::Contains("deploysim"));
  CHECK_THROWS_AS(parse_flag_hash(""), std::invalid_argument);
}

TEST_CASE("strategies/flag_bucketing: the common bucket agrees with each system's own rule", "[strategies]") {
  const auto ids = user_ids(20000);
  const std::string flag = "checkout-v2";
  for (int p : {0, 1, 5, 25, 50, 75, 99, 100}) {
    INFO("percent " << p);
    const std::vector<std::uint32_t> weights = {static_cast<std::uint32_t>(p),
                                                static_cast<std::uint32_t>(100 - p)};
    // LaunchDarkly weights are in thousandths of a percent, compared in float32.
    const float ld_threshold = static_cast<float>(p * 1000) / 100000.0f;
    int mismatches = 0;
    for (const std::string& id : ids) {
      mismatches += in_rollout(FlagHash::unleash, flag, id, p) != unleash_in_rollout(id, flag, p);
      mismatches += in_rollout(FlagHash::flagd, flag, id, p) !=
                    (flagd_fractional(flagd_bucketing_value(flag, id), weights) == 0);
      mismatches += in_rollout(FlagHash::launchdarkly, flag, id, p) !=
                    (launchdarkly_bucket(flag, flag, id) < ld_threshold);
    }
    CHECK(mismatches == 0);
  }
  // Unleash's Node client compares fractional percentages too: 2.5 % admits normalized hashes 1 and 2.
  for (const std::string& id : ids)
    if (in_rollout(FlagHash::unleash, flag, id, 2.5) != (normalized_hash(id, flag) <= 2)) FAIL(id);
}

TEST_CASE("strategies/flag_bucketing: buckets are uniform and rollouts monotonic over 100k users",
          "[strategies]") {
  const auto ids = user_ids(100000);
  const std::string flag = "new-ranker";
  for (FlagHash h : kAllHashes) {
    INFO(to_string(h));
    std::vector<double> bucket(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) bucket[i] = flag_bucket(h, flag, ids[i]);
    CHECK(*std::min_element(bucket.begin(), bucket.end()) >= 0.0);
    CHECK(*std::max_element(bucket.begin(), bucket.end()) < 1.0);
    // Binomial standard deviation at 100k users is at most 0.0016; allow about three.
    for (double p : {5.0, 25.0, 50.0}) {
      std::size_t in = 0;
      for (double b : bucket) in += b < p / 100;
      CHECK(static_cast<double>(in) / static_cast<double>(ids.size()) == Approx(p / 100).margin(0.005));
    }
    // Users in at 5 % stay in at 25 % and 50 %, as the stable hash promises.
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const bool at5 = in_rollout(h, flag, ids[i], 5), at25 = in_rollout(h, flag, ids[i], 25),
                 at50 = in_rollout(h, flag, ids[i], 50);
      dropped += (at5 && !at25) + (at25 && !at50);
    }
    CHECK(dropped == 0);
    // Another flag reshuffles the users: the share in at 50 % for both flags is near a quarter.
    std::size_t both = 0;
    for (std::size_t i = 0; i < ids.size(); ++i)
      both += bucket[i] < 0.5 && flag_bucket(h, "other-flag", ids[i]) < 0.5;
    CHECK(static_cast<double>(both) / static_cast<double>(ids.size()) == Approx(0.25).margin(0.005));
  }
}

TEST_CASE("strategies/flag_bucketing: deploysim hash separates its inputs", "[strategies]") {
  // Length prefixes keep the split between flag key and user id significant.
  CHECK(deploysim_hash("ab", "c") != deploysim_hash("a", "bc"));
  CHECK(deploysim_hash("", "") != deploysim_hash("", std::string_view("\0", 1)));
  CHECK(deploysim_hash("flag", "user-1") == deploysim_hash("flag", "user-1"));
  CHECK(flag_bucket(FlagHash::deploysim, "flag", "user-1") ==
        static_cast<double>(deploysim_hash("flag", "user-1") >> 11) * 0x1.0p-53);
}

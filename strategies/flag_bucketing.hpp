// Stable user bucketing for feature-flag rollouts, bit-compatible with Unleash, flagd and LaunchDarkly.
//
// A feature flag rolls the candidate out to the users whose stable hash of (flag key, user id) falls
// below the rollout percentage, so the same users stay in while the percentage grows. Each common flag
// system hashes differently; reproducing them exactly lets a simulated rollout select the very users the
// real system would. MurmurHash3 and SHA-1 are implemented here from their published definitions
// (SMHasher's MurmurHash3.cpp, FIPS 180-4) so that no crypto library is needed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sim {

// ---- hash primitives -------------------------------------------------------------------------------------

/// MurmurHash3 x86_32 of the bytes of `data` (the flag systems hash UTF-8 strings byte by byte).
std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed);

using Sha1Digest = std::array<std::uint8_t, 20>;

/// Incremental SHA-1 (FIPS 180-4), so callers can hash "a.b.c" without building the string.
class Sha1 {
 public:
  Sha1();
  Sha1& update(std::string_view data);
  /// Pads and returns the digest; the object must not be updated afterwards.
  Sha1Digest finish();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 5> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // message length in bytes
};

Sha1Digest sha1(std::string_view data);

/// Lower-case hexadecimal form of a digest, as the SDKs print it.
std::string to_hex(const Sha1Digest& digest);

// ---- Unleash ---------------------------------------------------------------------------------------------

/// Seed of Unleash's variant hashing (StrategyUtils / normalizedVariantValue); rollouts use seed 0.
inline constexpr std::uint32_t kUnleashVariantSeed = 86028157;

/// Unleash's normalizedHash: murmur3_32("group_id:user_id", seed) % normalizer + 1, in 1..normalizer.
/// Gradual and flexible rollouts use seed 0 with normalizer 100 and the feature name as group id; this is
/// what the default arguments give.
std::uint32_t normalized_hash(std::string_view user_id, std::string_view group_id,
                              std::uint32_t normalizer = 100, std::uint32_t seed = 0);

/// Unleash's rollout rule: percentage > 0 and normalized_hash <= percentage.
bool unleash_in_rollout(std::string_view user_id, std::string_view group_id, double percentage);

// ---- flagd -----------------------------------------------------------------------------------------------

/// The value flagd's `fractional` hashes when no bucketing expression is given: flagKey followed directly
/// by targetingKey, without a separator ({"cat": [{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]}).
std::string flagd_bucketing_value(std::string_view flag_key, std::string_view targeting_key);

/// flagd's `fractional` (current, "v2" in flagd-testbed): h = murmur3_32(value, 0) is scaled to the total
/// weight as (h * total) >> 32 and the first variant whose cumulative weight exceeds it is chosen. Returns
/// the variant index, or weights.size() when the total weight is zero. Throws std::invalid_argument if the
/// weights sum above INT32_MAX, which flagd rejects.
std::size_t flagd_fractional(std::string_view bucketing_value, std::span<const std::uint32_t> weights);

/// flagd's `fractional` before its high-precision change ("v1", still the pseudo-code of flagd's fractional
/// operation specification): bucket = |int32(h)| / INT32_MAX * 100 against cumulative percentages
/// 100 * w / total. Returns weights.size() when no variant matches (h = 2^31 gives a bucket above 100).
std::size_t flagd_fractional_legacy(std::string_view bucketing_value, std::span<const std::uint32_t> weights);

// ---- LaunchDarkly ----------------------------------------------------------------------------------------

/// LaunchDarkly's bucket for rollouts: the first 15 hex digits of sha1("flag_key.salt.user_value") as an
/// integer, divided by 0xFFFFFFFFFFFFFFF in single precision exactly as the SDKs do. In [0, 1], where 1 is
/// reachable only through float rounding (probability about 3e-8).
float launchdarkly_bucket(std::string_view flag_key, std::string_view salt, std::string_view user_value);

/// The same for rollouts and experiments that carry a seed: sha1("seed.user_value"), the seed in decimal.
float launchdarkly_bucket_seeded(std::int64_t seed, std::string_view user_value);

// ---- common interface ------------------------------------------------------------------------------------

/// Which system's bucketing a feature-flag rollout reproduces.
enum class FlagHash {
  unleash,       // normalized_hash(user, group = flag key), seed 0
  flagd,         // current fractional over flag key + user id
  launchdarkly,  // launchdarkly_bucket(flag key, salt = flag key, user id)
  deploysim,     // deploysim_hash: fast, non-cryptographic, 53-bit resolution
};

/// Names "unleash", "flagd", "launchdarkly", "deploysim"; parse throws std::invalid_argument otherwise.
FlagHash parse_flag_hash(std::string_view name);
const char* to_string(FlagHash h);

/// deploysim's own 64-bit hash of (flag key, user id): each string is absorbed as its length and then its
/// bytes in little-endian 8-byte words, every word folded in with the SplitMix64 finaliser sim::mix64.
/// Length prefixes keep ("ab", "c") and ("a", "bc") apart; the result is the same on every platform.
std::uint64_t deploysim_hash(std::string_view flag_key, std::string_view user_id);

/// A user's position in [0, 1) for `flag_key` under the chosen system: the user is in a rollout of p
/// percent iff flag_bucket(...) < p / 100, which agrees with the system's own rule, so raising the
/// percentage only adds users.
///   unleash:      the largest double below normalized_hash / 100, so bucket < p / 100 iff
///                 normalized_hash <= p, also for fractional p as Unleash's Node client compares.
///   flagd:        h / 2^32, so bucket < p / 100 iff fractional with weights [p, 100 - p] picks the first.
///   launchdarkly: the SDK's single-precision bucket widened to double (1 clamped below 1); it matches the
///                 SDK's float comparison with weights out of 100000 except at exact float ties.
///   deploysim:    the top 53 bits of deploysim_hash.
double flag_bucket(FlagHash hash, std::string_view flag_key, std::string_view user_id);

/// flag_bucket(hash, flag_key, user_id) < percent / 100.
bool in_rollout(FlagHash hash, std::string_view flag_key, std::string_view user_id, double percent);

}  // namespace sim

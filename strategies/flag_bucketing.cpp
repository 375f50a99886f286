// Stable user bucketing for feature-flag rollouts: MurmurHash3, SHA-1 and the Unleash, flagd and
// LaunchDarkly bucketing rules built on them.
#include "strategies/flag_bucketing.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/core/random.hpp"
#include "sim/core/text.hpp"

namespace sim {

namespace {

// Byte-wise little-endian load: the hashes are defined on bytes, so the result must not depend on the
// host's byte order or on the alignment of the string.
std::uint32_t load_le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint32_t load_be32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

std::uint32_t murmur3_scramble(std::uint32_t k) {
  k *= 0xcc9e2d51u;
  k = std::rotl(k, 15);
  k *= 0x1b873593u;
  return k;
}

std::uint32_t murmur3_fmix(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

std::uint64_t absorb(std::uint64_t h, std::string_view s) {
  h = mix64(h ^ static_cast<std::uint64_t>(s.size()));
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size(); i += 8) {
    std::uint64_t word = 0;
    for (std::size_t j = 0; j < 8 && i + j < s.size(); ++j)
      word |= static_cast<std::uint64_t>(p[i + j]) << (8 * j);
    h = mix64(h ^ word);
  }
  return h;
}

// The LaunchDarkly SDKs scale by this constant in single precision (Go: float32(0xFFFFFFFFFFFFFFF)).
constexpr float kLaunchDarklyScale = static_cast<float>(0xFFFFFFFFFFFFFFFLL);

float launchdarkly_scale(Sha1& hasher) {
  const Sha1Digest digest = hasher.finish();
  // The first 15 hex digits are the top 60 bits of the digest's first 8 bytes.
  std::uint64_t top = 0;
  for (int i = 0; i < 8; ++i) top = top << 8 | digest[static_cast<std::size_t>(i)];
  const auto value = static_cast<std::int64_t>(top >> 4);
  return static_cast<float>(value) / kLaunchDarklyScale;
}

// Largest double below 1: where a system's own value can reach 1 only through rounding, the common
// position is clamped here so that it stays in [0, 1) and a 100 % rollout includes everyone.
constexpr double kBelowOne = 1.0 - 0x1.0p-53;

}  // namespace

// ---- MurmurHash3 -----------------------------------------------------------------------------------------

std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t blocks = data.size() / 4;
  std::uint32_t h = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    h ^= murmur3_scramble(load_le32(p + 4 * i));
    h = std::rotl(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  const unsigned char* tail = p + 4 * blocks;
  std::uint32_t k = 0;
  switch (data.size() & 3) {
    case 3:
      k ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      h ^= murmur3_scramble(k);
      break;
    default:
      break;
  }
  // The reference takes the length as a 32-bit int; keys here are far shorter than 4 GiB.
  h ^= static_cast<std::uint32_t>(data.size());
  return murmur3_fmix(h);
}

// ---- SHA-1 -----------------------------------------------------------------------------------------------

Sha1::Sha1() : state_{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u} {}

Sha1& Sha1::update(std::string_view data) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t n = data.size();
  length_ += n;
  if (buffered_ > 0) {
    const std::size_t take = std::min(n, buffer_.size() - buffered_);
    std::copy(p, p + take, buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_));
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < buffer_.size()) return *this;
    compress(buffer_.data());
    buffered_ = 0;
  }
  for (; n >= 64; p += 64, n -= 64) compress(p);
  std::copy(p, p + n, buffer_.begin());
  buffered_ = n;
  return *this;
}

Sha1Digest Sha1::finish() {
  const std::uint64_t bits = length_ * 8;
  // Padding (FIPS 180-4 5.1.1): a one bit, zeros up to 56 bytes mod 64, the bit length big-endian.
  buffer_[buffered_++] = 0x80;
  if (buffered_ > 56) {
    std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), std::uint8_t{0});
    compress(buffer_.data());
    buffered_ = 0;
  }
  std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.begin() + 56, std::uint8_t{0});
  for (int i = 0; i < 8; ++i)
    buffer_[static_cast<std::size_t>(56 + i)] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  compress(buffer_.data());
  buffered_ = 0;

  Sha1Digest digest;
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      digest[4 * i + j] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * j));
  return digest;
}

void Sha1::compress(const std::uint8_t* block) {
  // Message schedule and the 80 steps of FIPS 180-4 6.1.2.
  std::array<std::uint32_t, 80> w;
  for (std::size_t t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (std::size_t t = 16; t < 80; ++t) w[t] = std::rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
  for (std::size_t t = 0; t < 80; ++t) {
    std::uint32_t f, k;
    if (t < 20) {
      f = (b & c) ^ (~b & d);  // Ch
      k = 0x5a827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;  // Parity
      k = 0x6ed9eba1u;
    } else if (t < 60) {
      f = (b & c) ^ (b & d) ^ (c & d);  // Maj
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;  // Parity
      k = 0xca62c1d6u;
    }
    const std::uint32_t temp = std::rotl(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = temp;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

Sha1Digest sha1(std::string_view data) { return Sha1().update(data).finish(); }

std::string to_hex(const Sha1Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (std::uint8_t byte : digest) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

// ---- Unleash ---------------------------------------------------------------------------------------------

std::uint32_t normalized_hash(std::string_view user_id, std::string_view group_id, std::uint32_t normalizer,
                              std::uint32_t seed) {
  if (normalizer == 0) throw std::invalid_argument("normalized_hash: normalizer must be positive");
  std::string key;
  key.reserve(group_id.size() + 1 + user_id.size());
  key.append(group_id);
  key.push_back(':');
  key.append(user_id);
  return murmur3_32(key, seed) % normalizer + 1;
}

bool unleash_in_rollout(std::string_view user_id, std::string_view group_id, double percentage) {
  return percentage > 0 && normalized_hash(user_id, group_id) <= percentage;
}

// ---- flagd -----------------------------------------------------------------------------------------------

std::string flagd_bucketing_value(std::string_view flag_key, std::string_view targeting_key) {
  std::string value;
  value.reserve(flag_key.size() + targeting_key.size());
  value.append(flag_key);
  value.append(targeting_key);
  return value;
}

std::size_t flagd_fractional(std::string_view bucketing_value, std::span<const std::uint32_t> weights) {
  std::uint64_t total = 0;
  for (std::uint32_t w : weights) total += w;
  // flagd caps the sum at INT32_MAX so that hash * total fits a signed 64-bit product in every SDK.
  if (total > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("flagd_fractional: the weights sum above 2147483647");
  if (total == 0) return weights.size();
  const std::uint64_t bucket = static_cast<std::uint64_t>(murmur3_32(bucketing_value, 0)) * total >> 32;
  std::uint64_t range_end = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    range_end += weights[i];
    if (bucket < range_end) return i;
  }
  return weights.size();  // unreachable: bucket < total
}

std::size_t flagd_fractional_legacy(std::string_view bucketing_value,
                                    std::span<const std::uint32_t> weights) {
  double total = 0;
  for (std::uint32_t w : weights) total += w;
  if (total == 0) return weights.size();
  // Go: math.Abs(float64(int32(h))) / math.MaxInt32 * 100, in float64 like flagd's core.
  const auto signed_hash = static_cast<std::int32_t>(murmur3_32(bucketing_value, 0));
  const double bucket = std::fabs(static_cast<double>(signed_hash)) / 2147483647.0 * 100.0;
  double range_end = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    range_end += 100.0 * weights[i] / total;
    if (bucket < range_end) return i;
  }
  return weights.size();
}

// ---- LaunchDarkly ----------------------------------------------------------------------------------------

float launchdarkly_bucket(std::string_view flag_key, std::string_view salt, std::string_view user_value) {
  Sha1 hasher;
  hasher.update(flag_key).update(".").update(salt).update(".").update(user_value);
  return launchdarkly_scale(hasher);
}

float launchdarkly_bucket_seeded(std::int64_t seed, std::string_view user_value) {
  Sha1 hasher;
  hasher.update(std::to_string(seed)).update(".").update(user_value);
  return launchdarkly_scale(hasher);
}

// ---- common interface ------------------------------------------------------------------------------------

FlagHash parse_flag_hash(std::string_view name) {
  for (FlagHash h : {FlagHash::unleash, FlagHash::flagd, FlagHash::launchdarkly, FlagHash::deploysim})
    if (name == to_string(h)) return h;
  throw std::invalid_argument("unknown flag hash " + quoted(name) +
                              " (expected unleash, flagd, launchdarkly or deploysim)");
}

const char* to_string(FlagHash h) {
  switch (h) {
    case FlagHash::unleash:
      return "unleash";
    case FlagHash::flagd:
      return "flagd";
    case FlagHash::launchdarkly:
      return "launchdarkly";
    case FlagHash::deploysim:
      return "deploysim";
  }
  return "?";
}

std::uint64_t deploysim_hash(std::string_view flag_key, std::string_view user_id) {
  // An arbitrary odd constant as the initial state, so that empty inputs do not hash from zero.
  return absorb(absorb(0x6a09e667f3bcc909ULL, flag_key), user_id);
}

double flag_bucket(FlagHash hash, std::string_view flag_key, std::string_view user_id) {
  switch (hash) {
    case FlagHash::unleash: {
      // The predecessor of n / 100 is below p / 100 exactly when n / 100 <= p / 100.
      const double n = normalized_hash(user_id, flag_key);
      return std::nextafter(n / 100.0, 0.0);
    }
    case FlagHash::flagd:
      return murmur3_32(flagd_bucketing_value(flag_key, user_id), 0) * 0x1.0p-32;
    case FlagHash::launchdarkly:
      return std::min(static_cast<double>(launchdarkly_bucket(flag_key, flag_key, user_id)), kBelowOne);
    case FlagHash::deploysim:
      return static_cast<double>(deploysim_hash(flag_key, user_id) >> 11) * 0x1.0p-53;
  }
  throw std::invalid_argument("flag_bucket: unknown flag hash");
}

bool in_rollout(FlagHash hash, std::string_view flag_key, std::string_view user_id, double percent) {
  return flag_bucket(hash, flag_key, user_id) < percent / 100.0;
}

}  // namespace sim

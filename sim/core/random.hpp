// Random streams: one root seed, one independent engine per (replication, purpose).
//
// Each purpose draws from its own stream so that worlds differing only in their deployment actions see
// the same arrivals, users and failures (common random numbers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <boost/random/mersenne_twister.hpp>

namespace sim {

using Rng = boost::random::mt19937_64;

/// The purposes that own a stream. Adding one at the end keeps existing streams unchanged.
enum class Stream : std::uint8_t {
  arrivals,
  users,
  service,
  routing,
  failures,
  defects,
  drift,
  analysis,
  provisioning,
  startup,
  outcomes,
  rewards,
  shadow_labels,  // would-be outcomes of mirrored answers, drawn apart so live rewards stay common
  kCount
};

inline constexpr std::size_t kStreamCount = static_cast<std::size_t>(Stream::kCount);

/// SplitMix64 finaliser: a bijective 64-bit mixer used to derive seeds and stable hashes.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Seed of the stream for (root seed, replication, purpose); distinct inputs give unrelated seeds.
constexpr std::uint64_t derive_seed(std::uint64_t root, std::uint64_t replication, Stream purpose) {
  return mix64(mix64(mix64(root) ^ (replication + 0x632be59bd9b4e019ULL)) ^
               (static_cast<std::uint64_t>(purpose) + 1) * 0xd1b54a32d192ed03ULL);
}

/// Uniform double in [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

class RandomStreams {
 public:
  RandomStreams(std::uint64_t root_seed, std::uint64_t replication)
      : root_seed_(root_seed), replication_(replication) {
    for (std::size_t i = 0; i < kStreamCount; ++i)
      engines_[i].seed(derive_seed(root_seed, replication, static_cast<Stream>(i)));
  }

  Rng& operator[](Stream s) { return engines_[static_cast<std::size_t>(s)]; }
  std::uint64_t root_seed() const { return root_seed_; }
  std::uint64_t replication() const { return replication_; }

 private:
  std::uint64_t root_seed_;
  std::uint64_t replication_;
  std::array<Rng, kStreamCount> engines_;
};

}  // namespace sim

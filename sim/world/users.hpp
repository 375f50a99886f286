// The user population: who sends each request, and which segments (region, platform, ...) a user is in.
//
// Segments are a pure function of (salt, user, attribute), so a population of any size costs no per-user
// memory and every world of a comparison sees the same user in the same segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/world/zipf.hpp"

namespace sim {

struct SegmentCategory {
  std::string name;
  double probability = 0.0;
};

/// One way of splitting users, e.g. region {eu 0.3, us 0.5, ap 0.2}.
struct SegmentAttribute {
  std::string name;
  std::vector<SegmentCategory> categories;  // 1..256 of them; probabilities sum to 1
};

struct UserPopulationConfig {
  std::uint32_t size = 1;      // users are numbered 0 .. size-1
  double zipf_exponent = 0.0;  // activity skew: user i sends requests in proportion to (i+1)^-s; 0 = uniform
  std::vector<SegmentAttribute> attributes;
  std::uint64_t salt = 0;  // changes every user's segments without changing the shares
};

class UserPopulation {
 public:
  /// Throws std::invalid_argument with a message naming the offending attribute or category if size is 0,
  /// the exponent is negative or not finite, names are empty or repeated, an attribute has no or more than
  /// 256 categories, a probability is negative or not finite, or probabilities do not sum to 1 within 1e-9.
  explicit UserPopulation(UserPopulationConfig config);

  /// The user sending the next request; user 0 is the most active one when the exponent is positive.
  std::uint32_t draw_user(Rng& rng) const;

  /// Category index of `user` for attribute `attribute`; the same for the same (salt, user, attribute).
  std::uint8_t segment_of(std::uint32_t user, std::size_t attribute) const;

  std::uint32_t size() const { return config_.size; }
  double zipf_exponent() const { return config_.zipf_exponent; }
  std::uint64_t salt() const { return config_.salt; }
  std::size_t attribute_count() const { return config_.attributes.size(); }
  const SegmentAttribute& attribute(std::size_t index) const { return config_.attributes.at(index); }

  /// Index lookups by name; throw std::invalid_argument listing the known names if not found.
  std::size_t attribute_index(std::string_view name) const;
  std::uint8_t category_index(std::size_t attribute, std::string_view name) const;
  const std::string& category_name(std::size_t attribute, std::uint8_t category) const;

 private:
  UserPopulationConfig config_;
  ZipfSampler zipf_;
  // Per attribute: upper ends of the categories' probability intervals over [0, 1).
  std::vector<std::vector<double>> cumulative_;
};

}  // namespace sim

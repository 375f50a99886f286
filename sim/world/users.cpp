// User population: activity-skewed user draws and hash-based segment membership.
#include "sim/world/users.hpp"
#include "sim/core/text.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include <boost/random/uniform_int_distribution.hpp>

namespace sim {
namespace {

[[noreturn]] void invalid(const std::string& what) { throw std::invalid_argument("UserPopulation: " + what); }

const UserPopulationConfig& validated(const UserPopulationConfig& config) {
  if (config.size < 1) invalid("population size must be at least 1");
  if (!std::isfinite(config.zipf_exponent) || config.zipf_exponent < 0.0)
    invalid("zipf exponent must be finite and >= 0, got " + std::to_string(config.zipf_exponent));
  std::unordered_set<std::string_view> attribute_names;
  for (const SegmentAttribute& attribute : config.attributes) {
    if (attribute.name.empty()) invalid("an attribute has an empty name");
    if (!attribute_names.insert(attribute.name).second)
      invalid("attribute " + quoted(attribute.name) + " is listed twice");
    const std::string where = "attribute " + quoted(attribute.name);
    if (attribute.categories.empty()) invalid(where + " has no categories");
    if (attribute.categories.size() > 256) invalid(where + " has more than 256 categories");
    std::unordered_set<std::string_view> category_names;
    double sum = 0.0;
    for (const SegmentCategory& category : attribute.categories) {
      if (category.name.empty()) invalid(where + " has a category with an empty name");
      if (!category_names.insert(category.name).second)
        invalid(where + ": category " + quoted(category.name) + " is listed twice");
      if (!std::isfinite(category.probability) || category.probability < 0.0)
        invalid(where + ": category " + quoted(category.name) + " has probability " +
                std::to_string(category.probability) + "; probabilities must be finite and >= 0");
      sum += category.probability;
    }
    if (std::fabs(sum - 1.0) > 1e-9) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.12g", sum);
      invalid(where + ": category probabilities sum to " + buffer + ", not 1 (tolerance 1e-9)");
    }
  }
  return config;
}

}  // namespace

UserPopulation::UserPopulation(UserPopulationConfig config)
    : config_(std::move(config)), zipf_(validated(config_).size, config_.zipf_exponent) {
  cumulative_.reserve(config_.attributes.size());
  for (const SegmentAttribute& attribute : config_.attributes) {
    std::vector<double> upper(attribute.categories.size());
    std::size_t last_positive = 0;
    double running = 0.0;
    for (std::size_t i = 0; i < upper.size(); ++i) {
      running += attribute.categories[i].probability;
      upper[i] = running;
      if (attribute.categories[i].probability > 0.0) last_positive = i;
    }
    // The sum may miss 1 by rounding; give the gap to the last category that can occur, never to a
    // zero-probability one.
    for (std::size_t i = last_positive; i < upper.size(); ++i) upper[i] = 1.0;
    cumulative_.push_back(std::move(upper));
  }
}

std::uint32_t UserPopulation::draw_user(Rng& rng) const {
  if (config_.zipf_exponent == 0.0) {
    boost::random::uniform_int_distribution<std::uint32_t> uniform(0, config_.size - 1);
    return uniform(rng);
  }
  return static_cast<std::uint32_t>(zipf_(rng) - 1);
}

std::uint8_t UserPopulation::segment_of(std::uint32_t user, std::size_t attribute) const {
  const std::vector<double>& upper = cumulative_.at(attribute);
  // Nested mixing so that neighbouring users and neighbouring attributes give unrelated values.
  const std::uint64_t hash =
      mix64(mix64(mix64(config_.salt) ^ user) ^ ((attribute + 1) * 0xd1b54a32d192ed03ULL));
  const double u = static_cast<double>(hash >> 11) * 0x1.0p-53;
  std::size_t i = 0;
  while (u >= upper[i]) ++i;  // few categories: a linear scan beats a binary search
  return static_cast<std::uint8_t>(i);
}

std::size_t UserPopulation::attribute_index(std::string_view name) const {
  std::string known;
  for (std::size_t i = 0; i < config_.attributes.size(); ++i) {
    if (config_.attributes[i].name == name) return i;
    if (!known.empty()) known.append(", ");
    known.append(config_.attributes[i].name);
  }
  invalid("unknown attribute " + quoted(name) + " (known: " + (known.empty() ? "none" : known) + ")");
}

std::uint8_t UserPopulation::category_index(std::size_t attribute, std::string_view name) const {
  const SegmentAttribute& a = config_.attributes.at(attribute);
  std::string known;
  for (std::size_t i = 0; i < a.categories.size(); ++i) {
    if (a.categories[i].name == name) return static_cast<std::uint8_t>(i);
    if (!known.empty()) known.append(", ");
    known.append(a.categories[i].name);
  }
  invalid("attribute " + quoted(a.name) + " has no category " + quoted(name) + " (known: " + known + ")");
}

const std::string& UserPopulation::category_name(std::size_t attribute, std::uint8_t category) const {
  return config_.attributes.at(attribute).categories.at(category).name;
}

}  // namespace sim

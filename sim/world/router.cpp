// Version choice for live requests: match rules, weights or replica shares, stickiness and mirroring.
#include "sim/world/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace sim {

Router::Router(std::size_t versions, std::uint64_t salt)
    : weights_(versions, 0.0), in_service_(versions, 1), mirror_fraction_(versions, 0.0), salt_(salt) {}

void Router::use_replica_proportional() { weighted_ = false; }

void Router::set_weights(std::span<const double> weights) {
  if (weights.size() != weights_.size())
    throw std::invalid_argument("router: one weight per version expected");
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0)) throw std::invalid_argument("router: weights must be >= 0");
    sum += w;
  }
  if (!(sum > 0)) throw std::invalid_argument("router: weights must have a positive sum");
  for (std::size_t i = 0; i < weights.size(); ++i) weights_[i] = weights[i] * 100.0 / sum;
  weighted_ = true;
}

void Router::set_in_service(VersionId v, bool in_service) { in_service_.at(v) = in_service ? 1 : 0; }

void Router::set_mirror(VersionId v, double percent) {
  if (v >= weights_.size()) throw std::invalid_argument("router: unknown mirror version");
  if (!(percent >= 0 && percent <= 100))
    throw std::invalid_argument("router: mirror percent must be in [0, 100]");
  mirror_fraction_[v] = percent / 100.0;
  mirrors_.clear();
  for (std::size_t i = 0; i < mirror_fraction_.size(); ++i)
    if (mirror_fraction_[i] > 0) mirrors_.push_back(static_cast<VersionId>(i));
}

void Router::clear_mirror() {
  std::fill(mirror_fraction_.begin(), mirror_fraction_.end(), 0.0);
  mirrors_.clear();
}

double Router::bucket(std::uint32_t user) const {
  return static_cast<double>(mix64(salt_ ^ (static_cast<std::uint64_t>(user) * 0x9e3779b97f4a7c15ULL)) >>
                             11) *
         0x1.0p-53;
}

VersionId Router::route(std::uint32_t user, std::span<const std::uint8_t> segments,
                        std::span<const int> ready, Rng& rng) const {
  for (const MatchRule& r : rules_) {
    if (static_cast<std::size_t>(r.attribute) < segments.size() && segments[r.attribute] == r.category)
      return r.version;
  }
  if (hook_) {
    const VersionId v = hook_->route(user, segments);
    if (v != kNoVersion) return v;
  }
  const double u = sticky_ ? bucket(user) : uniform01(rng);
  const std::size_t n = weights_.size();
  if (weighted_) {
    double acc = 0;
    VersionId last = kNoVersion;
    for (std::size_t v = 0; v < n; ++v) {
      if (weights_[v] <= 0) continue;
      acc += weights_[v] / 100.0;
      last = static_cast<VersionId>(v);
      if (u < acc) return last;
    }
    return last;  // rounding: u close to 1
  }
  long total = 0;
  for (std::size_t v = 0; v < n; ++v)
    if (in_service_[v]) total += ready[v];
  if (total == 0) {
    // No Ready replica anywhere: the request goes to the first in-service version and fails there.
    for (std::size_t v = 0; v < n; ++v)
      if (in_service_[v]) return static_cast<VersionId>(v);
    return kNoVersion;
  }
  const double target = u * static_cast<double>(total);
  long acc = 0;
  VersionId last = kNoVersion;
  for (std::size_t v = 0; v < n; ++v) {
    if (!in_service_[v] || ready[v] == 0) continue;
    acc += ready[v];
    last = static_cast<VersionId>(v);
    if (target < static_cast<double>(acc)) return last;
  }
  return last;
}

bool Router::mirror_to(VersionId v, Rng& rng) const {
  const double f = mirror_fraction_[v];
  if (f <= 0) return false;
  return f >= 1 || uniform01(rng) < f;
}

double Router::share(VersionId v, std::span<const int> ready) const {
  if (weighted_) return weights_[v] / 100.0;
  if (!in_service_[v]) return 0;
  long total = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i)
    if (in_service_[i]) total += ready[i];
  if (total == 0) {
    for (std::size_t i = 0; i < weights_.size(); ++i)
      if (in_service_[i]) return i == v ? 1.0 : 0.0;
    return 0;
  }
  return static_cast<double>(ready[v]) / static_cast<double>(total);
}

}  // namespace sim

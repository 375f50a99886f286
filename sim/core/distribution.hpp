// Duration distributions for service, startup and provisioning times, sampled in nanoseconds.
//
// A tagged value rather than a virtual hierarchy: sampling sits on the request path and a switch on a
// small enum is cheaper than an indirect call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/core/time.hpp"

namespace sim {

class Distribution {
 public:
  enum class Kind : std::uint8_t { deterministic, exponential, lognormal, gamma, uniform, empirical };

  /// Always `value`.
  static Distribution deterministic(Time value);
  static Distribution exponential(Time mean);
  /// Parameterised by mean and coefficient of variation (stddev / mean).
  static Distribution lognormal(Time mean, double cv);
  /// Parameterised by median and 95th percentile (p95 >= median).
  static Distribution lognormal_quantiles(Time median, Time p95);
  static Distribution gamma(Time mean, double cv);
  static Distribution uniform(Time min, Time max);
  /// Resamples the given observations uniformly at random (the empirical distribution).
  static Distribution empirical(std::vector<Time> values);

  Distribution() = default;  // deterministic zero

  Time sample(Rng& rng) const;
  Kind kind() const { return kind_; }
  double mean_seconds() const;
  /// Squared coefficient of variation (variance / mean^2), as used by Pollaczek-Khinchine.
  double scv() const;
  std::string describe() const;

 private:
  Kind kind_ = Kind::deterministic;
  double a_ = 0;  // deterministic: value; exponential: mean; lognormal: mu; gamma: shape; uniform: min
  double b_ = 0;  // lognormal: sigma; gamma: scale; uniform: max
  std::shared_ptr<const std::vector<Time>> values_;
};

}  // namespace sim

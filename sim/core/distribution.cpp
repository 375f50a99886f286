// Sampling and moments of duration distributions (Boost.Random for the draws).
#include "sim/core/distribution.hpp"

#include <cmath>
#include <stdexcept>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

namespace sim {
namespace {

Time to_time(double ns) {
  if (!(ns > 0)) return 0;
  if (ns >= 9.0e18) return static_cast<Time>(9.0e18);
  return static_cast<Time>(std::llround(ns));
}

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

Distribution Distribution::deterministic(Time value) {
  require(value >= 0, "deterministic distribution: value must be >= 0");
  Distribution d;
  d.kind_ = Kind::deterministic;
  d.a_ = static_cast<double>(value);
  return d;
}

Distribution Distribution::exponential(Time mean) {
  require(mean > 0, "exponential distribution: mean must be > 0");
  Distribution d;
  d.kind_ = Kind::exponential;
  d.a_ = static_cast<double>(mean);
  return d;
}

Distribution Distribution::lognormal(Time mean, double cv) {
  require(mean > 0, "lognormal distribution: mean must be > 0");
  require(cv > 0, "lognormal distribution: cv must be > 0");
  Distribution d;
  d.kind_ = Kind::lognormal;
  const double sigma2 = std::log1p(cv * cv);
  d.b_ = std::sqrt(sigma2);
  d.a_ = std::log(static_cast<double>(mean)) - sigma2 / 2;
  return d;
}

Distribution Distribution::lognormal_quantiles(Time median, Time p95) {
  require(median > 0, "lognormal distribution: median must be > 0");
  require(p95 >= median, "lognormal distribution: p95 must be >= median");
  Distribution d;
  d.kind_ = Kind::lognormal;
  d.a_ = std::log(static_cast<double>(median));
  constexpr double kZ95 = 1.6448536269514722;
  d.b_ = (std::log(static_cast<double>(p95)) - d.a_) / kZ95;
  if (d.b_ == 0) return deterministic(median);
  return d;
}

Distribution Distribution::gamma(Time mean, double cv) {
  require(mean > 0, "gamma distribution: mean must be > 0");
  require(cv > 0, "gamma distribution: cv must be > 0");
  Distribution d;
  d.kind_ = Kind::gamma;
  d.a_ = 1.0 / (cv * cv);                   // shape
  d.b_ = static_cast<double>(mean) / d.a_;  // scale
  return d;
}

Distribution Distribution::uniform(Time min, Time max) {
  require(min >= 0 && max >= min, "uniform distribution: need 0 <= min <= max");
  Distribution d;
  d.kind_ = Kind::uniform;
  d.a_ = static_cast<double>(min);
  d.b_ = static_cast<double>(max);
  return d;
}

Distribution Distribution::empirical(std::vector<Time> values) {
  require(!values.empty(), "empirical distribution: needs at least one value");
  for (Time v : values) require(v >= 0, "empirical distribution: values must be >= 0");
  Distribution d;
  d.kind_ = Kind::empirical;
  d.values_ = std::make_shared<const std::vector<Time>>(std::move(values));
  return d;
}

Time Distribution::sample(Rng& rng) const {
  switch (kind_) {
    case Kind::deterministic:
      return static_cast<Time>(a_);
    case Kind::exponential:
      return to_time(-a_ * std::log1p(-uniform01(rng)));
    case Kind::lognormal:
      return to_time(boost::random::lognormal_distribution<double>(a_, b_)(rng));
    case Kind::gamma:
      return to_time(boost::random::gamma_distribution<double>(a_, b_)(rng));
    case Kind::uniform:
      return to_time(a_ + (b_ - a_) * uniform01(rng));
    case Kind::empirical: {
      const auto& v = *values_;
      return v[boost::random::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    }
  }
  return 0;
}

double Distribution::mean_seconds() const {
  double ns = 0;
  switch (kind_) {
    case Kind::deterministic:
    case Kind::exponential:
      ns = a_;
      break;
    case Kind::lognormal:
      ns = std::exp(a_ + b_ * b_ / 2);
      break;
    case Kind::gamma:
      ns = a_ * b_;
      break;
    case Kind::uniform:
      ns = (a_ + b_) / 2;
      break;
    case Kind::empirical: {
      for (Time v : *values_) ns += static_cast<double>(v);
      ns /= static_cast<double>(values_->size());
      break;
    }
  }
  return ns / static_cast<double>(kSecond);
}

double Distribution::scv() const {
  switch (kind_) {
    case Kind::deterministic:
      return 0;
    case Kind::exponential:
      return 1;
    case Kind::lognormal:
      return std::expm1(b_ * b_);
    case Kind::gamma:
      return 1.0 / a_;
    case Kind::uniform: {
      const double m = (a_ + b_) / 2;
      return m == 0 ? 0 : (b_ - a_) * (b_ - a_) / 12 / (m * m);
    }
    case Kind::empirical: {
      double s = 0, s2 = 0;
      for (Time v : *values_) {
        s += static_cast<double>(v);
        s2 += static_cast<double>(v) * static_cast<double>(v);
      }
      const double n = static_cast<double>(values_->size());
      const double m = s / n;
      return m == 0 ? 0 : (s2 / n - m * m) / (m * m);
    }
  }
  return 0;
}

std::string Distribution::describe() const {
  const double mean = mean_seconds();
  switch (kind_) {
    case Kind::deterministic:
      return "deterministic(" + format_duration(static_cast<Time>(a_)) + ")";
    case Kind::exponential:
      return "exponential(mean " + std::to_string(mean) + "s)";
    case Kind::lognormal:
      return "lognormal(mean " + std::to_string(mean) + "s, cv " + std::to_string(std::sqrt(scv())) + ")";
    case Kind::gamma:
      return "gamma(mean " + std::to_string(mean) + "s, cv " + std::to_string(std::sqrt(scv())) + ")";
    case Kind::uniform:
      return "uniform(" + format_duration(static_cast<Time>(a_)) + ", " +
             format_duration(static_cast<Time>(b_)) + ")";
    case Kind::empirical:
      return "empirical(" + std::to_string(values_->size()) + " values)";
  }
  return "?";
}

}  // namespace sim

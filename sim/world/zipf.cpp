// Rejection-inversion sampling of the Zipf distribution (Hoermann & Derflinger 1996).
//
// The continuous hat h(x) = x^-s is convex and decreasing, so with H' = h the intervals
// [H(k + 1/2) - h(k), H(k + 1/2)) for k = 1..n have length h(k) and do not overlap. Drawing u uniformly
// over their hull, mapping it back with x = H^-1(u) and rounding gives the candidate k whose interval could
// hold u; accepting only when u really lies in it makes P(k) proportional to h(k).
#include "sim/world/zipf.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace sim {
namespace {

// log1p(x) / x, continuous at 0 so that s = 1 and s close to 1 need no special case.
double log1p_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

// expm1(x) / x, continuous at 0.
double expm1_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1.0 + x * (0.5 + x * (1.0 / 6.0 + x / 24.0));
}

}  // namespace

ZipfSampler::ZipfSampler(std::uint64_t n, double s) : n_(n), s_(s) {
  if (n < 1) throw std::invalid_argument("ZipfSampler: n must be at least 1");
  // Ranks go through a double; above 2^53 neighbouring ranks would merge.
  if (n > (std::uint64_t{1} << 53)) throw std::invalid_argument("ZipfSampler: n must be at most 2^53");
  if (!std::isfinite(s) || s < 0.0)
    throw std::invalid_argument("ZipfSampler: exponent s must be finite and >= 0, got " + std::to_string(s));
  u_low_ = big_h(1.5) - 1.0;
  u_high_ = big_h(static_cast<double>(n) + 0.5);
  // The paper shows k - H^-1(H(k + 1/2) - h(k)) is smallest at k = 2, so this bound is safe for all k >= 2
  // (k = 1 is always accepted anyway).
  squeeze_ = 2.0 - big_h_inverse(big_h(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const { return std::exp(-s_ * std::log(x)); }

double ZipfSampler::big_h(double x) const {
  const double log_x = std::log(x);
  return expm1_over_x((1.0 - s_) * log_x) * log_x;
}

double ZipfSampler::big_h_inverse(double y) const { return std::exp(log1p_over_x((1.0 - s_) * y) * y); }

std::uint64_t ZipfSampler::operator()(Rng& rng) const {
  const double max_rank = static_cast<double>(n_);
  while (true) {
    // From the top down, so that uniform01() == 0 maps to the largest u and never below u_low_.
    const double u = u_high_ + uniform01(rng) * (u_low_ - u_high_);
    const double x = big_h_inverse(u);
    double k = std::floor(x + 0.5);
    // x may fall below 1/2 (rank 1's interval starts below H(1/2)) or round past n at the edges.
    if (k < 1.0) k = 1.0;
    if (k > max_rank) k = max_rank;
    if (k - x <= squeeze_ || u >= big_h(k + 0.5) - h(k)) return static_cast<std::uint64_t>(k);
  }
}

}  // namespace sim

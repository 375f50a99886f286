// Zipf-distributed ranks in O(1) time and memory, for popularity skew over huge populations.
#pragma once

#include <cstdint>

#include "sim/core/random.hpp"

namespace sim {

/// Draws ranks k in 1..n with P(k) proportional to k^-s (rank 1 is the most likely).
///
/// Rejection-inversion (Hoermann & Derflinger 1996): no table, so n may be as large as 2^53 and
/// construction is as cheap as a draw. Any s >= 0 is accepted; s = 0 is uniform, s = 1 and values
/// close to 1 are handled without loss of precision. The expected number of trials per draw is close to 1.
class ZipfSampler {
 public:
  /// Throws std::invalid_argument unless n >= 1, n <= 2^53 and s is finite and >= 0.
  ZipfSampler(std::uint64_t n, double s);

  std::uint64_t operator()(Rng& rng) const;

  std::uint64_t n() const { return n_; }
  double exponent() const { return s_; }

 private:
  double h(double x) const;      // unnormalised density x^-s
  double big_h(double x) const;  // an antiderivative of h, (x^(1-s) - 1) / (1 - s)
  double big_h_inverse(double y) const;

  std::uint64_t n_;
  double s_;
  double u_low_;    // H(1.5) - h(1): the lowest point of rank 1's acceptance interval
  double u_high_;   // H(n + 0.5): the top of rank n's acceptance interval
  double squeeze_;  // ranks with k - x <= squeeze_ are accepted without evaluating H
};

}  // namespace sim

// Mann-Whitney U test: ranks with ties, the exact null distribution, the normal approximation, and the
// Hodges-Lehmann shift interval.
#include "sim/monitor/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/math/distributions/normal.hpp>

namespace sim {

namespace {

// Beyond this the exact distribution costs more than it is worth (work grows as (m n)^2 / 4).
constexpr double kMaxExactPairs = 10'000;
constexpr double kMaxDifferences = 67'108'864;  // 2^26 doubles: 512 MB

void check_samples(std::span<const double> x, std::span<const double> y, const char* who) {
  if (x.empty() || y.empty()) throw std::invalid_argument(std::string(who) + ": both samples need values");
  const auto has_nan = [](std::span<const double> s) {
    return std::any_of(s.begin(), s.end(), [](double v) { return std::isnan(v); });
  };
  if (has_nan(x) || has_nan(y)) throw std::invalid_argument(std::string(who) + ": NaN in a sample");
}

// Cumulative null distribution of U for sizes m <= n: out[u] = P(U <= u), u = 0..m*n. Counts the
// arrangements with the recurrence f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u), which only adds positive
// numbers (the product formula of the Gaussian binomial subtracts and loses the small tail).
std::vector<double> u_cdf(std::size_t m, std::size_t n) {
  if (m > n) std::swap(m, n);
  if (static_cast<double>(m) * static_cast<double>(n) > kMaxExactPairs)
    throw std::invalid_argument("mann_whitney: exact distribution limited to m * n <= 10000");
  // f[i] holds f(i, j, .) for the current j, i = 0..m.
  std::vector<std::vector<double>> f(m + 1);
  for (std::size_t i = 0; i <= m; ++i) f[i].assign(1, 1.0);  // no y yet: one arrangement, U = 0
  for (std::size_t j = 1; j <= n; ++j) {
    for (std::size_t i = 1; i <= m; ++i) {
      std::vector<double>& cur = f[i];
      cur.resize(i * j + 1, 0.0);
      const std::vector<double>& prev = f[i - 1];  // already f(i-1, j, .)
      for (std::size_t u = 0; u < prev.size(); ++u) cur[u + j] += prev[u];
    }
  }
  std::vector<double> cdf = std::move(f[m]);
  double total = 0;
  for (double& c : cdf) {
    total += c;
    c = total;
  }
  for (double& c : cdf) c /= total;
  return cdf;
}

double cdf_at(const std::vector<double>& cdf, std::int64_t u) {
  if (u < 0) return 0.0;
  if (static_cast<std::size_t>(u) >= cdf.size()) return 1.0;
  return cdf[static_cast<std::size_t>(u)];
}

}  // namespace

const char* to_string(Alternative a) {
  switch (a) {
    case Alternative::two_sided:
      return "two_sided";
    case Alternative::greater:
      return "greater";
    case Alternative::less:
      return "less";
  }
  return "?";
}

double mann_whitney_cdf(std::int64_t u, std::size_t m, std::size_t n) {
  if (m == 0 || n == 0) throw std::invalid_argument("mann_whitney_cdf: sizes must be positive");
  return cdf_at(u_cdf(m, n), u);
}

MannWhitneyResult mann_whitney(std::span<const double> x, std::span<const double> y, Alternative alternative,
                               MannWhitneyMethod method, bool continuity) {
  check_samples(x, y, "mann_whitney");
  const std::size_t m = x.size();
  const std::size_t n = y.size();
  const std::size_t total = m + n;

  // Pool the samples (value, from x) and rank them; tied values share their average rank.
  std::vector<std::pair<double, bool>> pooled;
  pooled.reserve(total);
  for (double v : x) pooled.emplace_back(v, true);
  for (double v : y) pooled.emplace_back(v, false);
  std::sort(pooled.begin(), pooled.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0;
  double tie_term = 0;  // sum over tie groups of t^3 - t
  for (std::size_t i = 0; i < total;) {
    std::size_t j = i;
    while (j < total && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum_x += average_rank;
    tie_term += t * t * t - t;
    i = j;
  }

  const double md = static_cast<double>(m);
  const double nd = static_cast<double>(n);
  const double td = static_cast<double>(total);
  MannWhitneyResult r;
  r.n_x = m;
  r.n_y = n;
  r.u = rank_sum_x - md * (md + 1.0) / 2.0;
  const double mean = md * nd / 2.0;
  const double variance = md * nd / 12.0 * ((td + 1.0) - tie_term / (td * (td - 1.0)));
  const double sigma = variance > 0 ? std::sqrt(variance) : 0.0;
  double correction = 0;
  if (continuity) {
    switch (alternative) {
      case Alternative::two_sided:
        correction = r.u > mean ? 0.5 : (r.u < mean ? -0.5 : 0.0);
        break;
      case Alternative::greater:
        correction = 0.5;
        break;
      case Alternative::less:
        correction = -0.5;
        break;
    }
  }
  r.z = sigma > 0 ? (r.u - mean - correction) / sigma : 0.0;

  const bool ties = tie_term > 0;
  const bool small = m < 50 && n < 50;
  const bool exact =
      !ties && (method == MannWhitneyMethod::exact ? md * nd <= kMaxExactPairs
                                                   : method == MannWhitneyMethod::automatic && small);
  if (exact) {
    const std::vector<double> cdf = u_cdf(m, n);
    const auto u = static_cast<std::int64_t>(std::llround(r.u));
    switch (alternative) {
      case Alternative::two_sided: {
        const double p = r.u > mean ? 1.0 - cdf_at(cdf, u - 1) : cdf_at(cdf, u);
        r.p_value = std::min(1.0, 2.0 * p);
        break;
      }
      case Alternative::greater:
        r.p_value = 1.0 - cdf_at(cdf, u - 1);
        break;
      case Alternative::less:
        r.p_value = cdf_at(cdf, u);
        break;
    }
    r.exact = true;
    return r;
  }
  if (sigma == 0) {
    r.p_value = 1.0;  // every value tied: no evidence either way
    return r;
  }
  const boost::math::normal standard;
  const double lower_tail = boost::math::cdf(standard, r.z);
  const double upper_tail = boost::math::cdf(boost::math::complement(standard, r.z));
  switch (alternative) {
    case Alternative::two_sided:
      r.p_value = std::min(1.0, 2.0 * std::min(lower_tail, upper_tail));
      break;
    case Alternative::greater:
      r.p_value = upper_tail;
      break;
    case Alternative::less:
      r.p_value = lower_tail;
      break;
  }
  return r;
}

ShiftEstimate hodges_lehmann(std::span<const double> x, std::span<const double> y, double confidence) {
  check_samples(x, y, "hodges_lehmann");
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument("hodges_lehmann: confidence must be in (0, 1)");
  const std::size_t m = x.size();
  const std::size_t n = y.size();
  const double pairs = static_cast<double>(m) * static_cast<double>(n);
  if (pairs > kMaxDifferences) throw std::invalid_argument("hodges_lehmann: more than 2^26 differences");
  std::vector<double> d;
  d.reserve(m * n);
  for (double a : x)
    for (double b : y) d.push_back(a - b);
  std::sort(d.begin(), d.end());
  const std::size_t count = d.size();

  ShiftEstimate s;
  s.estimate = count % 2 == 1 ? d[count / 2] : (d[count / 2 - 1] + d[count / 2]) / 2.0;

  // The interval [d_(k), d_(mn + 1 - k)] (1-based) covers the shift with probability 1 - 2 P(U <= k - 1);
  // k is the alpha/2 quantile of U (R's qwilcox), at least 1.
  const double alpha = 1.0 - confidence;
  std::int64_t k = 0;
  if (m < 50 && n < 50) {
    const std::vector<double> cdf = u_cdf(m, n);
    while (static_cast<std::size_t>(k) < cdf.size() && cdf[static_cast<std::size_t>(k)] < alpha / 2.0) ++k;
  } else {
    const double z = boost::math::quantile(boost::math::normal(), 1.0 - alpha / 2.0);
    const double sigma = std::sqrt(pairs * (static_cast<double>(m + n) + 1.0) / 12.0);
    k = static_cast<std::int64_t>(std::ceil(pairs / 2.0 - 0.5 - z * sigma));
  }
  k = std::clamp<std::int64_t>(k, 1, static_cast<std::int64_t>((count + 1) / 2));
  s.lower = d[static_cast<std::size_t>(k - 1)];
  s.upper = d[count - static_cast<std::size_t>(k)];
  return s;
}

}  // namespace sim

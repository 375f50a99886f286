// Welford accumulation, Student-t intervals and batch means.
#include "sim/monitor/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

namespace sim {

void RunningStats::add(double x) {
  ++count_;
  if (count_ == 1) {
    min_ = max_ = x;
  } else {
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (x - mean_);
}

void RunningStats::merge(const RunningStats& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double n_a = static_cast<double>(count_);
  const double n_b = static_cast<double>(other.count_);
  const double n = n_a + n_b;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (n_b / n);
  m2_ += other.m2_ + delta * delta * (n_a * n_b / n);
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double RunningStats::variance() const {
  if (count_ < 2) return 0.0;
  return m2_ / static_cast<double>(count_ - 1);
}

double RunningStats::stddev() const { return std::sqrt(variance()); }

ConfidenceInterval mean_ci(const RunningStats& stats, double level) {
  if (!(level > 0.0 && level < 1.0)) throw std::invalid_argument("mean_ci: level must be in (0, 1)");
  if (stats.count() < 2) throw std::invalid_argument("mean_ci: needs at least two observations");
  const double n = static_cast<double>(stats.count());
  const boost::math::students_t t_dist(n - 1.0);
  const double t = boost::math::quantile(t_dist, 0.5 + level / 2.0);
  ConfidenceInterval ci;
  ci.mean = stats.mean();
  ci.half_width = t * stats.stddev() / std::sqrt(n);
  ci.lower = ci.mean - ci.half_width;
  ci.upper = ci.mean + ci.half_width;
  ci.n = stats.count();
  return ci;
}

ConfidenceInterval mean_ci(const std::vector<double>& samples, double level) {
  RunningStats stats;
  for (const double x : samples) stats.add(x);
  return mean_ci(stats, level);
}

ConfidenceInterval batch_means_ci(const std::vector<double>& observations, std::size_t batches,
                                  double level) {
  if (batches < 2) throw std::invalid_argument("batch_means_ci: needs at least two batches");
  if (observations.size() < batches)
    throw std::invalid_argument("batch_means_ci: fewer observations than batches");
  // The same accumulation as the streaming version, so both give identical intervals on the same data.
  BatchMeans means(observations.size() / batches);
  for (std::size_t i = 0; i < batches * means.batch_size(); ++i) means.add(observations[i]);
  return means.ci(level);
}

BatchMeans::BatchMeans(std::size_t batch_size) : batch_size_(batch_size) {
  if (batch_size == 0) throw std::invalid_argument("BatchMeans: batch size must be at least 1");
}

void BatchMeans::add(double x) {
  pending_sum_ += x;
  if (++pending_count_ == batch_size_) {
    batches_.add(pending_sum_ / static_cast<double>(batch_size_));
    pending_sum_ = 0.0;
    pending_count_ = 0;
  }
}

void BatchMeans::clear() {
  pending_count_ = 0;
  pending_sum_ = 0.0;
  batches_.clear();
}

}  // namespace sim

// Summary statistics and confidence intervals for simulation output analysis.
//
// RunningStats is Welford's one-pass algorithm (stable for long runs and mergeable across replications);
// intervals use Student's t. Batch means turn one long autocorrelated run into approximately independent
// observations; warm-up removal is the caller's job.
#pragma once

#include <cstddef>
#include <vector>

namespace sim {

class RunningStats {
 public:
  void add(double x);
  /// Combines two summaries as if every value of `other` had been added here (Chan et al.).
  void merge(const RunningStats& other);
  void clear() { *this = RunningStats{}; }

  std::size_t count() const { return count_; }
  /// 0 when empty.
  double mean() const { return mean_; }
  /// Sample variance (divides by n - 1); 0 with fewer than two values.
  double variance() const;
  double stddev() const;
  /// Smallest and largest value added; 0 when empty.
  double min() const { return min_; }
  double max() const { return max_; }

 private:
  std::size_t count_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;  // sum of squared deviations from the mean
  double min_ = 0.0;
  double max_ = 0.0;
};

/// Two-sided interval for a mean: lower = mean - half_width, upper = mean + half_width; n is the number
/// of (batch) observations it was computed from.
struct ConfidenceInterval {
  double mean = 0.0;
  double half_width = 0.0;
  double lower = 0.0;
  double upper = 0.0;
  std::size_t n = 0;
};

/// Student-t interval from a summary. Needs n >= 2 and level in (0, 1), else std::invalid_argument.
ConfidenceInterval mean_ci(const RunningStats& stats, double level = 0.95);

/// Student-t interval for the mean of independent samples. Needs at least two samples.
ConfidenceInterval mean_ci(const std::vector<double>& samples, double level = 0.95);

/// Splits the observations into `batches` consecutive batches of floor(size / batches) each (the
/// remainder at the end is ignored) and returns the t interval over the batch means (n = batches).
/// Needs batches >= 2 and at least one observation per batch.
ConfidenceInterval batch_means_ci(const std::vector<double>& observations, std::size_t batches = 30,
                                  double level = 0.95);

/// Streaming batch means with a fixed batch size: memory stays constant however many observations
/// arrive. Only completed batches enter the interval; a partial last batch is held back.
class BatchMeans {
 public:
  /// batch_size must be at least 1, else std::invalid_argument.
  explicit BatchMeans(std::size_t batch_size);

  void add(double x);
  void clear();

  std::size_t batch_size() const { return batch_size_; }
  std::size_t completed_batches() const { return batches_.count(); }
  /// Observations in the current, incomplete batch.
  std::size_t pending() const { return pending_count_; }
  /// Summary over the means of completed batches.
  const RunningStats& batch_stats() const { return batches_; }

  /// t interval over the completed batch means; needs at least two completed batches.
  ConfidenceInterval ci(double level = 0.95) const { return mean_ci(batches_, level); }

 private:
  std::size_t batch_size_;
  std::size_t pending_count_ = 0;
  double pending_sum_ = 0.0;
  RunningStats batches_;
};

}  // namespace sim

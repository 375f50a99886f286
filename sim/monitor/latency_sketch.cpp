// Logarithmic bucketing, quantile walk and exact sums for LatencySketch.
#include "sim/monitor/latency_sketch.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sim {
namespace {

// GCC and Clang both provide a 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 Uint128;

Uint128 join(std::uint64_t high, std::uint64_t low) { return (static_cast<Uint128>(high) << 64) | low; }

}  // namespace

LatencySketch::LatencySketch(double relative_accuracy) : accuracy_(relative_accuracy) {
  if (!(relative_accuracy > 0.0 && relative_accuracy <= 0.5))
    throw std::invalid_argument("LatencySketch: relative accuracy must be in (0, 0.5]");
  gamma_ = (1.0 + accuracy_) / (1.0 - accuracy_);
  log_gamma_ = std::log(gamma_);
  inv_log_gamma_ = 1.0 / log_gamma_;
  log_min_trackable_ = std::log(static_cast<double>(kMinTrackable));
  const double span = std::log(static_cast<double>(kMaxTrackable) / static_cast<double>(kMinTrackable));
  log_buckets_ = static_cast<std::size_t>(std::ceil(span * inv_log_gamma_));
  counts_.assign(log_buckets_ + 2, 0);
}

std::size_t LatencySketch::bucket_index(Time latency) const {
  if (latency < kMinTrackable) return 0;
  // Non-negative, so the cast truncates towards the floor.
  const double k = (std::log(static_cast<double>(latency)) - log_min_trackable_) * inv_log_gamma_;
  if (k >= static_cast<double>(log_buckets_)) return log_buckets_ + 1;
  return static_cast<std::size_t>(k) + 1;
}

Time LatencySketch::bucket_value(std::size_t index) const {
  // The low and high buckets have no finite width; the exact extremes are the best values they have.
  if (index == 0) return min_;
  if (index > log_buckets_) return max_;
  // For [lo, lo * gamma) the value 2 lo gamma / (1 + gamma) is within relative error a of both ends.
  const double upper = std::exp(log_min_trackable_ + static_cast<double>(index) * log_gamma_);
  const auto value = static_cast<Time>(std::llround(upper * 2.0 / (1.0 + gamma_)));
  return std::clamp(value, min_, max_);
}

void LatencySketch::add(Time latency) { add(latency, 1); }

void LatencySketch::add(Time latency, std::uint64_t count) {
  if (latency < 0) throw std::invalid_argument("LatencySketch: negative latency");
  if (count == 0) return;
  counts_[bucket_index(latency)] += count;
  if (count_ == 0) {
    min_ = max_ = latency;
  } else {
    min_ = std::min(min_, latency);
    max_ = std::max(max_, latency);
  }
  count_ += count;
  const Uint128 sum = join(sum_high_, sum_low_) + static_cast<Uint128>(latency) * count;
  sum_low_ = static_cast<std::uint64_t>(sum);
  sum_high_ = static_cast<std::uint64_t>(sum >> 64);
}

void LatencySketch::check_compatible(const LatencySketch& other) const {
  if (other.accuracy_ != accuracy_ || other.counts_.size() != counts_.size())
    throw std::invalid_argument("LatencySketch: sketches have different relative accuracy");
}

void LatencySketch::merge(const LatencySketch& other) {
  check_compatible(other);
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  const Uint128 sum = join(sum_high_, sum_low_) + join(other.sum_high_, other.sum_low_);
  sum_low_ = static_cast<std::uint64_t>(sum);
  sum_high_ = static_cast<std::uint64_t>(sum >> 64);
}

void LatencySketch::subtract(const LatencySketch& other) {
  check_compatible(other);
  if (other.count_ == 0) return;
  // Validate everything first so a bad call cannot leave wrapped-around counts behind.
  const Uint128 sum = join(sum_high_, sum_low_);
  const Uint128 other_sum = join(other.sum_high_, other.sum_low_);
  bool ok = other.count_ <= count_ && other_sum <= sum;
  for (std::size_t i = 0; ok && i < counts_.size(); ++i) ok = other.counts_[i] <= counts_[i];
  if (!ok) throw std::invalid_argument("LatencySketch: subtracting values that were never added");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] -= other.counts_[i];
  count_ -= other.count_;
  sum_low_ = static_cast<std::uint64_t>(sum - other_sum);
  sum_high_ = static_cast<std::uint64_t>((sum - other_sum) >> 64);
  refresh_extremes();
}

void LatencySketch::refresh_extremes() {
  if (count_ == 0) {
    min_ = max_ = 0;
    return;
  }
  // The old extremes still bound the remaining values, and the clamp inside bucket_value keeps each new
  // estimate within relative error a of the true extreme (which lies in that bucket and in the old range).
  std::size_t lowest = 0;
  while (counts_[lowest] == 0) ++lowest;
  std::size_t highest = counts_.size() - 1;
  while (counts_[highest] == 0) --highest;
  const Time new_min = bucket_value(lowest);
  const Time new_max = bucket_value(highest);
  min_ = new_min;
  max_ = new_max;
}

void LatencySketch::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_low_ = sum_high_ = 0;
  min_ = max_ = 0;
}

Time LatencySketch::quantile(double q) const {
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("LatencySketch: quantile must be in [0, 1]");
  if (count_ == 0) return 0;
  const double wanted = std::ceil(q * static_cast<double>(count_));
  const std::uint64_t rank = wanted < 1.0 ? 1 : std::min(count_, static_cast<std::uint64_t>(wanted));
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return bucket_value(i);
  }
  return max_;  // unreachable: the buckets sum to count_
}

double LatencySketch::mean_seconds() const {
  if (count_ == 0) return 0.0;
  const Uint128 sum = join(sum_high_, sum_low_);
  // Integer division first keeps the quotient exact; only the remainder goes through floating point.
  const Uint128 whole = sum / count_;
  const Uint128 rest = sum % count_;
  const long double mean_ns =
      static_cast<long double>(whole) + static_cast<long double>(rest) / static_cast<long double>(count_);
  return static_cast<double>(mean_ns / static_cast<long double>(kSecond));
}

std::uint64_t LatencySketch::count_above(Time threshold) const {
  if (count_ == 0 || threshold >= max_) return 0;
  if (threshold < min_) return count_;
  std::uint64_t above = 0;
  for (std::size_t i = bucket_index(threshold) + 1; i < counts_.size(); ++i) above += counts_[i];
  return above;
}

}  // namespace sim

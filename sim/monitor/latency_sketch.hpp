// Streaming latency histogram with bounded relative error (DDSketch-style logarithmic buckets).
//
// Memory is fixed at construction (about 9 KB at the default 1% accuracy) and does not grow with the
// number of values, so every monitor window can keep one. Sketches of equal accuracy merge and subtract
// exactly, which is what sliding windows built from per-interval sketches need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/core/time.hpp"

namespace sim {

class LatencySketch {
 public:
  /// Values from kMinTrackable up to about kMaxTrackable get buckets with relative error <= accuracy.
  static constexpr Time kMinTrackable = kMicrosecond;
  static constexpr Time kMaxTrackable = 10'000 * kSecond;

  /// `relative_accuracy` is the bound a on |reported - true| / true; must be in (0, 0.5].
  explicit LatencySketch(double relative_accuracy = 0.01);

  /// Records one latency; negative latencies throw std::invalid_argument.
  void add(Time latency);
  /// Records `count` equal latencies (count 0 is a no-op).
  void add(Time latency, std::uint64_t count);

  /// Adds all values of `other`; both sketches must have the same accuracy (else std::invalid_argument).
  void merge(const LatencySketch& other);

  /// Removes the values of `other`, which the caller guarantees were added to this sketch (a bucket that
  /// would go negative throws std::invalid_argument and leaves this sketch unchanged). The exact min and
  /// max of the remaining values are no longer known afterwards: see min().
  void subtract(const LatencySketch& other);

  void clear();

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }

  /// The value of rank ceil(q * count) (at least rank 1) in sorted order, within relative error a
  /// (plus at most half a nanosecond from rounding to Time). q = 0 and q = 1 give min() and max().
  /// Ranks that fall among values below kMinTrackable report min(); above the top bucket, max().
  /// Returns 0 when empty; q outside [0, 1] throws std::invalid_argument.
  Time quantile(double q) const;

  /// Exact mean (from a 128-bit running sum of nanoseconds); 0 when empty.
  double mean_seconds() const;

  /// Exact smallest and largest value since the last clear(), as long as subtract() was never called;
  /// after a subtract() they are the remaining extreme buckets' values, within relative error a.
  /// Both are 0 when empty.
  Time min() const { return min_; }
  Time max() const { return max_; }

  /// Approximate number of values strictly greater than `threshold`. Exact when threshold < min() or
  /// threshold >= max(). Otherwise counts the values in buckets entirely above the threshold's bucket:
  /// never counts a value <= threshold, but misses values > threshold that share its bucket (those are
  /// within a factor (1+a)/(1-a) of it; below kMinTrackable the whole low bucket is shared).
  std::uint64_t count_above(Time threshold) const;

  double relative_accuracy() const { return accuracy_; }

  /// Heap plus inline bytes held; depends only on the accuracy, never on the number of values.
  std::size_t bytes() const { return sizeof(*this) + counts_.capacity() * sizeof(std::uint64_t); }

 private:
  // Bucket 0 holds values below kMinTrackable, bucket log_buckets_ + 1 values above the covered range;
  // bucket k + 1 holds [kMinTrackable * gamma^k, kMinTrackable * gamma^(k+1)).
  std::size_t bucket_index(Time latency) const;
  Time bucket_value(std::size_t index) const;
  void check_compatible(const LatencySketch& other) const;
  void refresh_extremes();

  double accuracy_;
  double gamma_;
  double log_gamma_;
  double inv_log_gamma_;
  double log_min_trackable_;
  std::size_t log_buckets_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  // Two 64-bit halves of the exact sum of all nanoseconds: a sum of int64 values overflows 64 bits.
  std::uint64_t sum_low_ = 0;
  std::uint64_t sum_high_ = 0;
  Time min_ = 0;
  Time max_ = 0;
};

}  // namespace sim

// Metric windows per version: the request, error, latency and reward data that automated analysis reads.
//
// A MetricCollector observes the world and keeps, per version and per kind of traffic (live or mirrored),
// cumulative counters and a cumulative latency sketch. Each consumer (an analysis run, a gate) holds its
// own WindowCursor and reads "everything since my last measurement" as the difference of two cumulative
// states, so any number of consumers with different intervals share one collector and nothing is reset.
//
// For canary-versus-baseline judgement the collector also keeps a short history of fixed-width time
// buckets per version (p50/p90/p95/p99/p99.9/mean latency, error rate, request rate, conversion rate per
// bucket). Kayenta compares the time series of a metric between canary and baseline (one value per
// step of the metric store, e.g. 60 s), not raw request latencies: the buckets play the part of those
// steps. A bucket without data gives no point, as a query for a step without samples gives no value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/time.hpp"
#include "sim/monitor/latency_sketch.hpp"
#include "sim/world/observer.hpp"

namespace sim {

/// What an analysis can measure. Rates are fractions in [0, 1]; latencies are in seconds; request_rate
/// is per second over the window.
enum class Metric : std::uint8_t {
  request_rate,
  error_rate,    // requests with any status other than ok / requests
  success_rate,  // 1 - error_rate
  latency_p50,
  latency_p90,
  latency_p95,
  latency_p99,
  latency_p999,
  latency_mean,
  conversion_rate,  // conversions / delivered labels (rewards arrive after the world's label delay)
};
inline constexpr std::size_t kMetricCount = 10;
const char* to_string(Metric m);
/// Accepts the names to_string gives; anything else throws std::invalid_argument naming the known ones.
Metric parse_metric(std::string_view name);
bool is_latency(Metric m);
/// Human-readable value for reasons: "3.2%", "412ms", "1.8/s".
std::string format_metric_value(Metric m, double value);

enum class Traffic : std::uint8_t {
  live,    // requests answered to users
  shadow,  // mirrored copies: never returned; their labels say whether the prediction was right
};

/// What happened to one version over [start, end). Latency includes every request of the window
/// (errors too), as a mesh's request-duration histogram records every response.
struct WindowStats {
  VersionId version = 0;
  Traffic traffic = Traffic::live;
  Time start = 0;
  Time end = 0;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t labels = 0;  // delivered rewards
  std::uint64_t conversions = 0;
  LatencySketch latency;

  double seconds() const { return to_seconds(end - start); }
  /// The number of observations behind a metric: labels for conversion_rate, requests otherwise.
  std::uint64_t samples(Metric m) const { return m == Metric::conversion_rate ? labels : requests; }
  /// NaN when the metric has no samples (request_rate is 0 then, or NaN for an empty window).
  double value(Metric m) const;
};

/// One consumer's position: the cumulative state at its last measurement, and the window it last read.
/// Copying a cursor forks the consumer.
class WindowCursor {
 public:
  VersionId version() const { return version_; }
  Traffic traffic() const { return traffic_; }
  /// Start of the window the next advance() returns.
  Time since() const { return since_; }

 private:
  friend class MetricCollector;
  WindowCursor(VersionId v, Traffic t, double accuracy) : version_(v), traffic_(t), latency_(accuracy) {
    window_.latency = LatencySketch(accuracy);
  }
  VersionId version_;
  Traffic traffic_;
  Time since_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t labels_ = 0;
  std::uint64_t conversions_ = 0;
  LatencySketch latency_;  // cumulative sketch at since_
  WindowStats window_;     // reused so that advancing does not allocate
};

/// One closed time bucket of one version.
struct BucketSample {
  Time end = 0;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t labels = 0;
  std::uint64_t conversions = 0;
  double latency_s[6] = {0, 0, 0, 0, 0, 0};  // p50, p90, p95, p99, p99.9, mean
  /// NaN when the bucket has no samples for the metric; request_rate needs the bucket width.
  double value(Metric m, Time width) const;
};

struct CollectorOptions {
  Time bucket = 10 * kSecond;  // width of the series buckets; 0 keeps no series
  Time retention = kHour;      // closed buckets older than this (before the newest) are dropped; >= bucket
  double latency_accuracy = 0.01;
};

class MetricCollector : public WorldObserver {
 public:
  /// `versions` is the world's version count (World::version_count()).
  explicit MetricCollector(std::size_t versions, CollectorOptions options = {});

  void on_request(const RequestRecord& r) override;
  void on_reward(VersionId v, std::uint32_t user, bool converted, Time delivered) override;
  void on_shadow_label(VersionId v, std::uint32_t user, bool correct, Time delivered) override;

  /// A cursor whose first window starts now. Throws std::out_of_range for an unknown version.
  WindowCursor cursor(VersionId v, Time now, Traffic traffic = Traffic::live) const;
  /// The window [cursor.since(), now), and moves the cursor to now. The reference stays valid until the
  /// cursor advances again or is destroyed. Rewards count when the world delivers them.
  const WindowStats& advance(WindowCursor& cursor, Time now) const;

  /// Totals since the collector was attached.
  std::uint64_t requests(VersionId v, Traffic traffic = Traffic::live) const;
  std::uint64_t errors(VersionId v, Traffic traffic = Traffic::live) const;

  /// Replaces `out` with the per-bucket values of `m` for buckets ending in (from, to], oldest first,
  /// skipping buckets without samples. `to` must not be in the future: buckets that ended by then are
  /// closed first. Empty when no series is kept.
  void series(VersionId v, Metric m, Time from, Time to, std::vector<double>& out,
              Traffic traffic = Traffic::live);
  const CollectorOptions& options() const { return options_; }
  std::size_t version_count() const { return streams_.size() / 2; }

 private:
  struct Stream {
    explicit Stream(double accuracy) : latency(accuracy), bucket_latency(accuracy) {}
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    std::uint64_t labels = 0;
    std::uint64_t conversions = 0;
    LatencySketch latency;  // cumulative
    // The open bucket [open_index * width, (open_index + 1) * width) and the closed ones.
    std::int64_t open_index = 0;
    BucketSample open;
    LatencySketch bucket_latency;
    std::deque<BucketSample> closed;
  };
  Stream& stream(VersionId v, Traffic t) {
    return streams_[2 * static_cast<std::size_t>(v) + (t == Traffic::shadow)];
  }
  const Stream& stream(VersionId v, Traffic t) const {
    return streams_[2 * static_cast<std::size_t>(v) + (t == Traffic::shadow)];
  }
  const Stream& checked(VersionId v, Traffic t) const;
  /// Makes `index` the open bucket, closing the current one if it is older; late data (an older index)
  /// joins the open bucket.
  void roll(Stream& s, std::int64_t index);
  void add_label(VersionId v, Traffic t, bool converted, Time delivered);
  void close_open(Stream& s);

  CollectorOptions options_;
  std::vector<Stream> streams_;  // [version][live, shadow]
};

}  // namespace sim

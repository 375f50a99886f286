// Per-version time series at a fixed resolution: traffic share, ready replicas, error rate, p99, cost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/simulation.hpp"
#include "sim/monitor/latency_sketch.hpp"
#include "sim/world/observer.hpp"

namespace sim {

class World;

struct TimeSeriesRow {
  Time time;  // end of the interval
  VersionId version;
  std::uint64_t requests;  // live requests answered in the interval
  double traffic_share;    // of all live requests in the interval
  int ready;               // ready replicas at the end of the interval
  double error_rate;       // failed / requests in the interval (0 without requests)
  double latency_p99_s;    // over requests served in the interval (0 without requests)
  double cost;             // cost of the whole cluster so far
};

class TimeSeriesObserver : public WorldObserver {
 public:
  /// Samples every `resolution` from the world's current time until stop().
  TimeSeriesObserver(World& world, Time resolution);
  ~TimeSeriesObserver() override;

  void on_request(const RequestRecord& r) override;
  const std::vector<TimeSeriesRow>& rows() const { return rows_; }
  /// Renders rows as CSV with a header line.
  std::string csv() const;
  void stop();

 private:
  void tick();

  struct Interval {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    LatencySketch latency;
  };

  World& world_;
  Time resolution_;
  TimerId timer_;
  std::vector<Interval> current_;
  std::vector<TimeSeriesRow> rows_;
};

}  // namespace sim

// Time series sampling: one row per version per interval, from counters reset at every tick.
#include "sim/metrics/timeseries.hpp"

#include <cstdio>
#include <stdexcept>

#include "sim/world/world.hpp"

namespace sim {

TimeSeriesObserver::TimeSeriesObserver(World& world, Time resolution)
    : world_(world), resolution_(resolution), current_(world.version_count()) {
  if (resolution <= 0) throw std::invalid_argument("time series resolution must be > 0");
  timer_ = world_.sim().call_in(resolution_, [this] { tick(); });
}

TimeSeriesObserver::~TimeSeriesObserver() { stop(); }

void TimeSeriesObserver::stop() { world_.sim().cancel(timer_); }

void TimeSeriesObserver::on_request(const RequestRecord& r) {
  if (r.shadow) return;
  Interval& in = current_[r.version];
  ++in.requests;
  if (r.status != RequestStatus::ok) ++in.errors;
  if (r.status != RequestStatus::no_replica && r.status != RequestStatus::queue_full)
    in.latency.add(r.latency);
}

void TimeSeriesObserver::tick() {
  std::uint64_t total = 0;
  for (const Interval& in : current_) total += in.requests;
  const double cost = world_.cost_so_far();
  for (std::size_t v = 0; v < current_.size(); ++v) {
    Interval& in = current_[v];
    TimeSeriesRow row;
    row.time = world_.now();
    row.version = static_cast<VersionId>(v);
    row.requests = in.requests;
    row.traffic_share = total ? static_cast<double>(in.requests) / static_cast<double>(total) : 0;
    row.ready = world_.ready(static_cast<VersionId>(v));
    row.error_rate = in.requests ? static_cast<double>(in.errors) / static_cast<double>(in.requests) : 0;
    row.latency_p99_s = to_seconds(in.latency.quantile(0.99));
    row.cost = cost;
    rows_.push_back(row);
    in.requests = in.errors = 0;
    in.latency.clear();
  }
  timer_ = world_.sim().call_in(resolution_, [this] { tick(); });
}

std::string TimeSeriesObserver::csv() const {
  std::string out = "time_s,version,requests,traffic_share,ready,error_rate,latency_p99_s,cost\n";
  char buf[256];
  for (const TimeSeriesRow& r : rows_) {
    std::snprintf(buf, sizeof buf, "%.9g,%s,%llu,%.6g,%d,%.6g,%.6g,%.6f\n", to_seconds(r.time),
                  world_.version(r.version).name.c_str(), static_cast<unsigned long long>(r.requests),
                  r.traffic_share, r.ready, r.error_rate, r.latency_p99_s, r.cost);
    out += buf;
  }
  return out;
}

}  // namespace sim

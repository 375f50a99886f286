// Cumulative per-version counters, cursor windows and time-bucket series for automated analysis.
#include "sim/monitor/metric_window.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "sim/core/text.hpp"

namespace sim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kMetricNames[kMetricCount] = {
    "request_rate", "error_rate",  "success_rate", "latency_p50",  "latency_p90",
    "latency_p95",  "latency_p99", "latency_p999", "latency_mean", "conversion_rate",
};

// Index into BucketSample::latency_s and the quantile it holds (the mean has no quantile).
constexpr double kBucketQuantiles[5] = {0.5, 0.9, 0.95, 0.99, 0.999};

int latency_slot(Metric m) {
  switch (m) {
    case Metric::latency_p50:
      return 0;
    case Metric::latency_p90:
      return 1;
    case Metric::latency_p95:
      return 2;
    case Metric::latency_p99:
      return 3;
    case Metric::latency_p999:
      return 4;
    case Metric::latency_mean:
      return 5;
    default:
      return -1;
  }
}

double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? kNaN : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

const char* to_string(Metric m) {
  const auto i = static_cast<std::size_t>(m);
  return i < kMetricCount ? kMetricNames[i] : "?";
}

Metric parse_metric(std::string_view name) {
  for (std::size_t i = 0; i < kMetricCount; ++i)
    if (name == kMetricNames[i]) return static_cast<Metric>(i);
  std::string known;
  for (const char* n : kMetricNames) {
    if (!known.empty()) known += ", ";
    known += n;
  }
  throw std::invalid_argument("unknown metric " + quoted(name) + " (known: " + known + ")");
}

bool is_latency(Metric m) { return latency_slot(m) >= 0; }

std::string format_metric_value(Metric m, double value) {
  if (std::isnan(value)) return "n/a";
  char buf[48];
  switch (m) {
    case Metric::request_rate:
      std::snprintf(buf, sizeof buf, "%.3g/s", value);
      break;
    case Metric::error_rate:
    case Metric::success_rate:
    case Metric::conversion_rate:
      std::snprintf(buf, sizeof buf, "%.3g%%", 100.0 * value);
      break;
    default:
      std::snprintf(buf, sizeof buf, "%.4gms", 1000.0 * value);
      break;
  }
  return buf;
}

double WindowStats::value(Metric m) const {
  switch (m) {
    case Metric::request_rate: {
      const double s = seconds();
      return s > 0 ? static_cast<double>(requests) / s : kNaN;
    }
    case Metric::error_rate:
      return ratio(errors, requests);
    case Metric::success_rate:
      return ratio(requests - errors, requests);
    case Metric::latency_mean:
      return latency.empty() ? kNaN : latency.mean_seconds();
    case Metric::conversion_rate:
      return ratio(conversions, labels);
    default: {
      const int slot = latency_slot(m);
      return latency.empty() || slot < 0 ? kNaN : to_seconds(latency.quantile(kBucketQuantiles[slot]));
    }
  }
}

double BucketSample::value(Metric m, Time width) const {
  switch (m) {
    case Metric::request_rate:
      return requests == 0 || width <= 0 ? kNaN : static_cast<double>(requests) / to_seconds(width);
    case Metric::error_rate:
      return ratio(errors, requests);
    case Metric::success_rate:
      return ratio(requests - errors, requests);
    case Metric::conversion_rate:
      return ratio(conversions, labels);
    default: {
      const int slot = latency_slot(m);
      return requests == 0 || slot < 0 ? kNaN : latency_s[slot];
    }
  }
}

MetricCollector::MetricCollector(std::size_t versions, CollectorOptions options) : options_(options) {
  if (options_.bucket < 0) throw std::invalid_argument("MetricCollector: bucket width must not be negative");
  if (options_.bucket > 0 && options_.retention < options_.bucket)
    throw std::invalid_argument("MetricCollector: retention must be at least one bucket");
  streams_.reserve(2 * versions);
  for (std::size_t i = 0; i < 2 * versions; ++i) streams_.emplace_back(options_.latency_accuracy);
}

const MetricCollector::Stream& MetricCollector::checked(VersionId v, Traffic t) const {
  if (static_cast<std::size_t>(v) >= version_count())
    throw std::out_of_range("MetricCollector: version " + std::to_string(v) + " of " +
                            std::to_string(version_count()));
  return stream(v, t);
}

void MetricCollector::on_request(const RequestRecord& r) {
  // An unknown version means the collector was built for another world: fail loudly, not silently.
  checked(r.version, Traffic::live);
  Stream& s = stream(r.version, r.shadow ? Traffic::shadow : Traffic::live);
  const bool error = r.status != RequestStatus::ok;
  ++s.requests;
  s.errors += error;
  s.latency.add(r.latency);
  if (options_.bucket > 0) {
    roll(s, r.done / options_.bucket);
    ++s.open.requests;
    s.open.errors += error;
    s.bucket_latency.add(r.latency);
  }
}

void MetricCollector::on_reward(VersionId v, std::uint32_t, bool converted, Time delivered) {
  add_label(v, Traffic::live, converted, delivered);
}

void MetricCollector::on_shadow_label(VersionId v, std::uint32_t, bool correct, Time delivered) {
  add_label(v, Traffic::shadow, correct, delivered);
}

void MetricCollector::add_label(VersionId v, Traffic t, bool converted, Time delivered) {
  checked(v, t);
  Stream& s = stream(v, t);
  ++s.labels;
  s.conversions += converted;
  if (options_.bucket > 0) {
    roll(s, delivered / options_.bucket);
    ++s.open.labels;
    s.open.conversions += converted;
  }
}

void MetricCollector::roll(Stream& s, std::int64_t index) {
  if (index <= s.open_index) return;
  close_open(s);
  s.open_index = index;
}

void MetricCollector::close_open(Stream& s) {
  if (s.open.requests > 0 || s.open.labels > 0) {
    BucketSample& b = s.open;
    b.end = (s.open_index + 1) * options_.bucket;
    if (!s.bucket_latency.empty()) {
      for (int i = 0; i < 5; ++i) b.latency_s[i] = to_seconds(s.bucket_latency.quantile(kBucketQuantiles[i]));
      b.latency_s[5] = s.bucket_latency.mean_seconds();
    }
    s.closed.push_back(b);
    while (s.closed.size() > 1 && s.closed.front().end <= s.closed.back().end - options_.retention)
      s.closed.pop_front();
  }
  s.open = BucketSample{};
  if (!s.bucket_latency.empty()) s.bucket_latency.clear();
}

WindowCursor MetricCollector::cursor(VersionId v, Time now, Traffic traffic) const {
  const Stream& s = checked(v, traffic);
  WindowCursor c(v, traffic, options_.latency_accuracy);
  c.since_ = now;
  c.requests_ = s.requests;
  c.errors_ = s.errors;
  c.labels_ = s.labels;
  c.conversions_ = s.conversions;
  c.latency_ = s.latency;
  return c;
}

const WindowStats& MetricCollector::advance(WindowCursor& c, Time now) const {
  const Stream& s = checked(c.version_, c.traffic_);
  WindowStats& w = c.window_;
  w.version = c.version_;
  w.traffic = c.traffic_;
  w.start = c.since_;
  w.end = now;
  w.requests = s.requests - c.requests_;
  w.errors = s.errors - c.errors_;
  w.labels = s.labels - c.labels_;
  w.conversions = s.conversions - c.conversions_;
  // Copy-assignments between sketches of one accuracy reuse their buffers: no allocation per window.
  w.latency = s.latency;
  w.latency.subtract(c.latency_);
  c.latency_ = s.latency;
  c.requests_ = s.requests;
  c.errors_ = s.errors;
  c.labels_ = s.labels;
  c.conversions_ = s.conversions;
  c.since_ = now;
  return w;
}

std::uint64_t MetricCollector::requests(VersionId v, Traffic traffic) const {
  return checked(v, traffic).requests;
}

std::uint64_t MetricCollector::errors(VersionId v, Traffic traffic) const {
  return checked(v, traffic).errors;
}

void MetricCollector::series(VersionId v, Metric m, Time from, Time to, std::vector<double>& out,
                             Traffic traffic) {
  checked(v, traffic);
  out.clear();
  if (options_.bucket <= 0) return;
  Stream& s = stream(v, traffic);
  roll(s, to / options_.bucket);  // the bucket holding `to` is still open; every earlier one has ended
  for (const BucketSample& b : s.closed) {
    if (b.end <= from || b.end > to) continue;
    const double x = b.value(m, options_.bucket);
    if (!std::isnan(x)) out.push_back(x);
  }
}

}  // namespace sim

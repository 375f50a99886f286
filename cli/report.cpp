// The self-contained HTML report: summary table and hand-drawn SVG line charts per strategy.
#include "cli/report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "cli/outputs.hpp"

namespace sim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Chart geometry, in SVG user units (pixels at 100%).
constexpr double kWidth = 560, kHeight = 250;
constexpr double kLeft = 64, kRight = 16, kTop = 30, kBottom = 42;
constexpr double kCharWidth = 6.3;         // rough width of an 11px sans-serif character, for layout
constexpr std::size_t kLineBuckets = 200;  // at most 3 points kept per bucket: 600 points per line
constexpr std::size_t kBandBuckets = 150;  // 2 points per bucket on each side of a band
constexpr int kMarkerRows = 3;

// Okabe-Ito colours first: they stay distinguishable with the common colour vision deficiencies.
const char* const kPalette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                "#56b4e9", "#d55e00", "#8c6d31", "#666666"};

struct Point {
  double t;  // seconds
  double y;  // NaN: a gap in the line
};

struct BandPoint {
  double t, lo, hi;
};

struct Line {
  std::string name;
  std::string color;
  bool dashed = false;
  std::vector<Point> points;
  std::vector<std::vector<BandPoint>> band;  // min-max over replications, in contiguous segments
};

struct Chart {
  std::string title;
  std::string y_label;
  bool integer = false;  // integer ticks
  double y_max = kNaN;   // a fixed top of the axis; NaN: from the data
  std::vector<Line> lines;
};

struct Marker {
  double t;  // seconds
  Time at;
  std::string label;
  std::string color;
  std::string dash;
  std::string tooltip;
};

struct TimeAxis {
  double end_s;
  double unit_s;
  std::string unit;
};

std::string coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

/// Appends a path command such as "L12.5 80.0".
void append_point(std::string& d, char command, double x, double y) {
  d += command;
  d += coord(x);
  d += ' ';
  d += coord(y);
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
}

/// A step between time ticks of at least `raw` units that reads well on a clock: 15 or 30 minutes, 6 hours.
double time_step(double raw, const std::string& unit) {
  static const double clock_steps[] = {1, 2, 5, 10, 15, 20, 30};
  static const double hour_steps[] = {1, 2, 3, 6, 12, 24};
  if (raw >= 1 && (unit == "s" || unit == "min"))
    for (double step : clock_steps)
      if (step >= raw) return step;
  if (raw >= 1 && unit == "h")
    for (double step : hour_steps)
      if (step >= raw) return step;
  return nice_step(raw);
}

std::string tick_label(double v, double step) {
  const char* suffix = "";
  if (step >= 1e6) {
    v /= 1e6;
    step /= 1e6;
    suffix = "M";
  } else if (step >= 1e3) {
    v /= 1e3;
    step /= 1e3;
    suffix = "k";
  }
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f%s", decimals, v, suffix);
  return buf;
}

/// "H:MM:SS", with milliseconds when the time is not a whole second.
std::string clock(Time t) {
  const bool negative = t < 0;
  if (negative) t = -t;
  const long long ms = static_cast<long long>(t / kMillisecond);
  const long long s = ms / 1000;
  char buf[64];
  if (ms % 1000 == 0)
    std::snprintf(buf, sizeof buf, "%s%lld:%02lld:%02lld", negative ? "-" : "", s / 3600, s / 60 % 60,
                  s % 60);
  else
    std::snprintf(buf, sizeof buf, "%s%lld:%02lld:%02lld.%03lld", negative ? "-" : "", s / 3600, s / 60 % 60,
                  s % 60, ms % 1000);
  return buf;
}

TimeAxis time_axis(double end_s) {
  if (!(end_s > 0)) end_s = 1;
  if (end_s <= 180) return {end_s, 1, "s"};
  if (end_s <= 3 * 3600) return {end_s, 60, "min"};
  if (end_s <= 72 * 3600) return {end_s, 3600, "h"};
  return {end_s, 86400, "d"};
}

/// Keeps the lowest and highest point and the first gap of each bucket, in their order: spikes survive.
std::vector<Point> thin_line(const std::vector<Point>& p) {
  if (p.size() <= 3 * kLineBuckets) return p;
  std::vector<Point> out;
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  for (std::size_t b = 0; b < kLineBuckets; ++b) {
    const std::size_t begin = b * p.size() / kLineBuckets, end = (b + 1) * p.size() / kLineBuckets;
    std::size_t lo = none, hi = none, gap = none;
    for (std::size_t i = begin; i < end; ++i) {
      if (std::isnan(p[i].y)) {
        if (gap == none) gap = i;
        continue;
      }
      if (lo == none || p[i].y < p[lo].y) lo = i;
      if (hi == none || p[i].y > p[hi].y) hi = i;
    }
    std::vector<std::size_t> keep;
    for (std::size_t i : {lo, hi, gap})
      if (i != none) keep.push_back(i);
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    for (std::size_t i : keep) out.push_back(p[i]);
  }
  return out;
}

std::vector<BandPoint> thin_band(const std::vector<BandPoint>& p, std::size_t buckets) {
  if (p.size() <= 2 * buckets) return p;
  std::vector<BandPoint> out;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = b * p.size() / buckets, end = (b + 1) * p.size() / buckets;
    if (begin == end) continue;
    double lo = p[begin].lo, hi = p[begin].hi;
    for (std::size_t i = begin; i < end; ++i) {
      lo = std::min(lo, p[i].lo);
      hi = std::max(hi, p[i].hi);
    }
    out.push_back({p[begin].t, lo, hi});
    if (end - begin > 1) out.push_back({p[end - 1].t, lo, hi});
  }
  return out;
}

/// Splits a band where samples are missing (e.g. no requests at all) so it does not bridge the hole.
std::vector<std::vector<BandPoint>> band_segments(const std::map<Time, std::pair<double, double>>& values,
                                                  Time resolution) {
  std::vector<std::vector<BandPoint>> segments;
  std::size_t total = 0;
  Time last = 0;
  for (const auto& [t, v] : values) {
    if (segments.empty() || (resolution > 0 && t - last > resolution + resolution / 2))
      segments.emplace_back();
    segments.back().push_back({to_seconds(t), v.first, v.second});
    last = t;
    ++total;
  }
  for (auto& segment : segments)
    segment = thin_band(
        segment, std::max<std::size_t>(1, kBandBuckets * segment.size() / std::max<std::size_t>(1, total)));
  return segments;
}

/// A string that stays in the plot when drawn at `x`: anchored at its start, or at its end near the right.
struct LabelPlacement {
  double left, right, x;
  const char* anchor;
};

LabelPlacement place_label(double x, const std::string& text) {
  const double width = kCharWidth * static_cast<double>(text.size());
  if (x + 3 + width <= kWidth - kRight) return {x + 3, x + 3 + width, x + 3, "start"};
  return {x - 3 - width, x - 3, x - 3, "end"};
}

// The charts' own rules: part of the page's style sheet, and inside each standalone SVG file.
const char* const kChartStyle =
    "svg.chart{max-width:100%;height:auto;background:#fff}"
    "svg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif;"
    "font-size:11px;fill:#333}svg text.title{font-size:13px;font-weight:600}"
    ".grid line{stroke:#ececec}.axis line,.axis path{stroke:#888}"
    ".line{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}.band{opacity:.16}"
    ".marker{stroke-width:1.2}"
    ".marker-label text{paint-order:stroke;stroke:#fff;stroke-width:3px;font-size:10.5px}";

std::string svg_chart(const Chart& chart, const TimeAxis& axis, const std::vector<Marker>& markers,
                      bool standalone = false) {
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto x_of = [&](double t) { return kLeft + std::clamp(t / axis.end_s, 0.0, 1.0) * plot_w; };

  double top = chart.y_max, step = 0;
  if (std::isfinite(top)) {
    step = top / 4;
  } else {
    double max = 0;
    for (const Line& line : chart.lines) {
      for (const Point& p : line.points)
        if (std::isfinite(p.y)) max = std::max(max, p.y);
      for (const auto& segment : line.band)
        for (const BandPoint& b : segment)
          if (std::isfinite(b.hi)) max = std::max(max, b.hi);
    }
    if (!(max > 0)) max = 1;
    step = nice_step(max / 4);
    if (chart.integer) step = std::max(1.0, std::round(step));
    top = std::ceil(max / step - 1e-9) * step;
  }
  const auto y_of = [&](double v) { return kTop + plot_h - std::clamp(v / top, 0.0, 1.05) * plot_h; };

  const std::string title = html_escape(chart.title);
  std::string out = "<svg class=\"chart\" width=\"" + coord(kWidth) + "\" height=\"" + coord(kHeight) +
                    "\" viewBox=\"0 0 " + coord(kWidth) + " " + coord(kHeight) +
                    "\" role=\"img\" aria-label=\"" + title + "\"" +
                    (standalone ? std::string(" xmlns=\"http://www.w3.org/2000/svg\">\n<style>") +
                                      kChartStyle + "</style>\n"
                                : std::string(">\n"));
  out += "<text class=\"title\" x=\"" + coord(kLeft) + "\" y=\"17\">" + title + "</text>\n";

  // Legend, right-aligned on the title line.
  double legend_w = 0;
  for (const Line& line : chart.lines)
    legend_w += 26 + kCharWidth * static_cast<double>(line.name.size()) + 12;
  double lx =
      std::max(kLeft + 8 * static_cast<double>(chart.title.size()) + 12, kWidth - kRight - legend_w + 12);
  for (const Line& line : chart.lines) {
    out += "<line x1=\"" + coord(lx) + "\" y1=\"13\" x2=\"" + coord(lx + 20) + "\" y2=\"13\" stroke=\"" +
           line.color + "\" stroke-width=\"2.5\"" + (line.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    out += "<text x=\"" + coord(lx + 25) + "\" y=\"17\">" + html_escape(line.name) + "</text>\n";
    lx += 26 + kCharWidth * static_cast<double>(line.name.size()) + 12;
  }

  // Grid, ticks and axes.
  out += "<g class=\"grid\">";
  for (int k = 0; k * step <= top * (1 + 1e-9); ++k) {
    const double y = y_of(k * step);
    out += "<line x1=\"" + coord(kLeft) + "\" y1=\"" + coord(y) + "\" x2=\"" + coord(kWidth - kRight) +
           "\" y2=\"" + coord(y) + "\"/>";
  }
  const double x_step = time_step(axis.end_s / axis.unit_s / 6, axis.unit) * axis.unit_s;
  for (int k = 1; k * x_step <= axis.end_s * (1 + 1e-9); ++k) {
    const double x = x_of(k * x_step);
    out += "<line x1=\"" + coord(x) + "\" y1=\"" + coord(kTop) + "\" x2=\"" + coord(x) + "\" y2=\"" +
           coord(kTop + plot_h) + "\"/>";
  }
  out += "</g>\n<g class=\"axis\">";
  for (int k = 0; k * step <= top * (1 + 1e-9); ++k)
    out += "<text x=\"" + coord(kLeft - 6) + "\" y=\"" + coord(y_of(k * step) + 4) +
           "\" text-anchor=\"end\">" + tick_label(k * step, step) + "</text>";
  for (int k = 0; k * x_step <= axis.end_s * (1 + 1e-9); ++k) {
    const double x = x_of(k * x_step);
    out += "<line x1=\"" + coord(x) + "\" y1=\"" + coord(kTop + plot_h) + "\" x2=\"" + coord(x) + "\" y2=\"" +
           coord(kTop + plot_h + 4) + "\"/>";
    out += "<text x=\"" + coord(x) + "\" y=\"" + coord(kTop + plot_h + 16) + "\" text-anchor=\"middle\">" +
           tick_label(k * x_step / axis.unit_s, x_step / axis.unit_s) + "</text>";
  }
  out += "<path d=\"M" + coord(kLeft) + " " + coord(kTop) + "V" + coord(kTop + plot_h) + "H" +
         coord(kWidth - kRight) + "\" fill=\"none\"/>";
  out += "<text x=\"" + coord(kLeft + plot_w / 2) + "\" y=\"" + coord(kHeight - 6) +
         "\" text-anchor=\"middle\">time (" + axis.unit + ")</text>";
  out += "<text transform=\"translate(14 " + coord(kTop + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(chart.y_label) + "</text></g>\n";

  // Markers under the data, their labels above it.
  for (const Marker& m : markers) {
    const double x = x_of(m.t);
    out += "<line class=\"marker\" x1=\"" + coord(x) + "\" y1=\"" + coord(kTop) + "\" x2=\"" + coord(x) +
           "\" y2=\"" + coord(kTop + plot_h) + "\" stroke=\"" + m.color + "\" stroke-dasharray=\"" + m.dash +
           "\"/>\n";
  }
  for (const Line& line : chart.lines)
    for (const auto& segment : line.band) {
      if (segment.empty()) continue;
      std::string d;
      for (const BandPoint& b : segment) append_point(d, d.empty() ? 'M' : 'L', x_of(b.t), y_of(b.hi));
      for (auto it = segment.rbegin(); it != segment.rend(); ++it)
        append_point(d, 'L', x_of(it->t), y_of(it->lo));
      out += "<path class=\"band\" d=\"" + d + "Z\" fill=\"" + line.color + "\"/>\n";
    }
  for (const Line& line : chart.lines) {
    std::string d;
    std::size_t run = 0;
    for (const Point& p : thin_line(line.points)) {
      if (std::isnan(p.y)) {
        if (run == 1) d += "h0.5";  // an isolated sample still shows as a dot
        run = 0;
        continue;
      }
      append_point(d, run == 0 ? 'M' : 'L', x_of(p.t), y_of(p.y));
      ++run;
    }
    if (run == 1) d += "h0.5";
    if (d.empty()) continue;
    out += "<path class=\"line\" d=\"" + d + "\" stroke=\"" + line.color + "\"" +
           (line.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n";
  }
  std::vector<std::vector<std::pair<double, double>>> rows(kMarkerRows);
  for (const Marker& m : markers) {
    const LabelPlacement p = place_label(x_of(m.t), m.label);
    int row = kMarkerRows - 1;
    for (int r = 0; r < kMarkerRows; ++r) {
      bool free = true;
      for (const auto& [l, rt] : rows[r]) free = free && (p.right + 4 < l || p.left > rt + 4);
      if (free) {
        row = r;
        break;
      }
    }
    rows[row].push_back({p.left, p.right});
    out += "<g class=\"marker-label\"><title>" + html_escape(m.tooltip) + "</title><text x=\"" + coord(p.x) +
           "\" y=\"" + coord(kTop + 11 + 12 * row) + "\" text-anchor=\"" + p.anchor +
           "\" style=\"fill:" + m.color + "\">" + html_escape(m.label) + "</text></g>\n";
  }
  out += "</svg>";
  return out;
}

std::string version_name(const RunSet& set, VersionId v) {
  return v < set.versions.size() ? set.versions[v] : "v" + std::to_string(v);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// Chart markers for a run's decisions: release start, abort, rollback complete, promotion, stall.
std::vector<Marker> markers_of(const RunResult& run) {
  std::vector<Marker> out;
  for (const Mark& m : run.marks) {
    Marker marker{to_seconds(m.time), m.time, "", "", "4 3", ""};
    switch (m.kind) {
      case MarkKind::release_start:
        marker.label = "release";
        marker.color = "#555555";
        break;
      case MarkKind::abort:
        marker.label = "detection/abort";
        marker.color = "#c0392b";
        break;
      case MarkKind::promoted:
        marker.label = "promotion";
        marker.color = "#1e8449";
        break;
      case MarkKind::stalled:
        marker.label = "stalled";
        marker.color = "#b9770e";
        break;
      case MarkKind::note:
        if (!starts_with(m.reason, "rolled back")) continue;
        marker.label = "rollback complete";
        marker.color = "#7b241c";
        marker.dash = "1.5 2.5";
        break;
    }
    marker.tooltip = marker.label + " at " + clock(m.time) + (m.reason.empty() ? "" : ": " + m.reason);
    out.push_back(marker);
  }
  return out;
}

std::string metric_html(const MetricSummary* m, const TableMetric& tm, int replications, bool diff) {
  std::string text = "-";
  if (m && m->n > 0) {
    text = html_escape(format_estimate(m->mean * tm.scale, m->half_width * tm.scale));
    if (m->n < static_cast<std::size_t>(replications) && text != "-")
      text += " <span class=\"n\">(n=" + std::to_string(m->n) + ")</span>";
  }
  if (diff) {
    const std::string d = m && m->diff_n > 0
                              ? format_estimate(m->diff_mean * tm.scale, m->diff_half_width * tm.scale, true)
                              : "-";
    text += "<br><span class=\"diff\">\u0394 " + html_escape(d) + "</span>";
  }
  return text;
}

void render_summary(std::string& out, const RunSet& set) {
  out += "<table class=\"summary\">\n<thead><tr><th></th>";
  for (const StrategySummary& s : set.summary) {
    out += "<th><a href=\"#strategy-" + std::to_string(&s - set.summary.data()) + "\">" +
           html_escape(s.label) + "</a>";
    if (!s.name.empty() && s.name != s.label)
      out += "<br><span class=\"name\">" + html_escape(s.name) + "</span>";
    out += "</th>";
  }
  out += "</tr></thead>\n<tbody>\n<tr><th>outcome</th>";
  for (const StrategySummary& s : set.summary)
    out += "<td class=\"text\">" + html_escape(format_outcomes(s)) + "</td>";
  out += "</tr>\n";
  for (const TableMetric& tm : table_metrics(set)) {
    out += "<tr><th>" + html_escape(tm.label) + "</th>";
    for (const StrategySummary& s : set.summary) {
      const bool diff = !set.baseline.empty() && s.label != set.baseline && set.summary.size() > 1;
      out += "<td>" + metric_html(find_metric(s, tm.metric), tm, set.replications, diff) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n<p class=\"note\">Mean \u00b1 95% confidence half-width over replications";
  if (!set.baseline.empty() && set.summary.size() > 1)
    out += "; \u0394: paired difference, strategy minus " + html_escape(set.baseline) +
           ", over the replications where both are defined";
  out += "; (n=k): defined in k replications only.</p>\n";
}

/// Rows of one run for one version, in time order.
std::vector<const TimeSeriesRow*> rows_of(const RunResult& run, VersionId v) {
  std::vector<const TimeSeriesRow*> rows;
  for (const TimeSeriesRow& r : run.timeseries)
    if (r.version == v) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) { return a->time < b->time; });
  return rows;
}

/// The smallest step between consecutive sample times, or 0.
Time resolution_of(const RunResult& run) {
  std::set<Time> times;
  for (const TimeSeriesRow& r : run.timeseries) times.insert(r.time);
  Time best = 0;
  for (auto it = times.begin(); it != times.end() && std::next(it) != times.end(); ++it) {
    const Time d = *std::next(it) - *it;
    if (best == 0 || d < best) best = d;
  }
  return best;
}

template <typename Value>
Line version_line(const RunSet& set, const std::vector<const RunResult*>& runs, VersionId v, Time resolution,
                  Value value) {
  Line line{version_name(set, v), kPalette[v % std::size(kPalette)], false, {}, {}};
  for (const TimeSeriesRow* r : rows_of(*runs.front(), v))
    line.points.push_back({to_seconds(r->time), value(*r)});
  if (runs.size() > 1) {
    std::map<Time, std::pair<double, double>> band;
    for (const RunResult* run : runs)
      for (const TimeSeriesRow& r : run->timeseries) {
        if (r.version != v) continue;
        const double y = value(r);
        if (!std::isfinite(y)) continue;
        auto [it, fresh] = band.try_emplace(r.time, y, y);
        if (!fresh) it->second = {std::min(it->second.first, y), std::max(it->second.second, y)};
      }
    line.band = band_segments(band, resolution);
  }
  return line;
}

/// The cluster's cumulative cost: the same in every row of a sample time, so one value per time.
std::map<Time, double> cost_by_time(const RunResult& run) {
  std::map<Time, double> cost;
  for (const TimeSeriesRow& r : run.timeseries) cost.try_emplace(r.time, r.cost);
  return cost;
}

/// The five charts of one strategy (first replication's lines, bands over all), or nothing without runs.
struct StrategyCharts {
  std::vector<Chart> charts;  // traffic share, ready replicas, error rate, p99 latency, cost
  std::vector<Marker> markers;
  const RunResult* first = nullptr;
  std::size_t runs = 0;
};

/// One time axis for every chart of a report: the scenario's duration, or the last sample if later.
TimeAxis report_axis(const RunSet& set) {
  double end_s = to_seconds(set.duration);
  for (const RunResult& r : set.runs)
    for (const TimeSeriesRow& row : r.timeseries) end_s = std::max(end_s, to_seconds(row.time));
  return time_axis(end_s);
}

std::optional<StrategyCharts> strategy_charts(const RunSet& set, std::size_t index) {
  const StrategySummary& s = set.summary[index];
  std::vector<const RunResult*> runs;
  for (const RunResult& r : set.runs)
    if (r.strategy == s.label) runs.push_back(&r);
  std::stable_sort(runs.begin(), runs.end(),
                   [](const auto* a, const auto* b) { return a->replication < b->replication; });
  if (runs.empty()) return std::nullopt;
  const RunResult& first = *runs.front();
  const Time resolution = resolution_of(first);

  // Versions that ever had a replica or a request in any replication; all present ones otherwise.
  std::set<VersionId> shown, present;
  double max_p99 = 0;
  for (const RunResult* run : runs)
    for (const TimeSeriesRow& r : run->timeseries) {
      present.insert(r.version);
      if (r.ready > 0 || r.requests > 0) shown.insert(r.version);
      if (r.requests > 0 && std::isfinite(r.latency_p99_s)) max_p99 = std::max(max_p99, r.latency_p99_s);
    }
  if (shown.empty()) shown = present;
  const bool ms = max_p99 < 1;

  Chart share{"Traffic share", "share of live requests (%)", false, 100, {}};
  Chart ready{"Ready replicas", "replicas", true, kNaN, {}};
  Chart errors{"Error rate", "failed requests (%)", false, kNaN, {}};
  Chart p99{"p99 latency", ms ? "p99 latency (ms)" : "p99 latency (s)", false, kNaN, {}};
  Chart cost{"Cost (cumulative)", "cost", false, kNaN, {}};
  for (VersionId v : shown) {
    share.lines.push_back(
        version_line(set, runs, v, resolution, [](const TimeSeriesRow& r) { return 100 * r.traffic_share; }));
    ready.lines.push_back(version_line(set, runs, v, resolution,
                                       [](const TimeSeriesRow& r) { return static_cast<double>(r.ready); }));
    errors.lines.push_back(version_line(set, runs, v, resolution, [](const TimeSeriesRow& r) {
      return r.requests > 0 ? 100 * r.error_rate : kNaN;
    }));
    p99.lines.push_back(version_line(set, runs, v, resolution, [ms](const TimeSeriesRow& r) {
      return r.requests > 0 ? r.latency_p99_s * (ms ? 1000 : 1) : kNaN;
    }));
  }
  Line total{s.label, "#333333", false, {}, {}};
  for (const auto& [t, c] : cost_by_time(first)) total.points.push_back({to_seconds(t), c});
  if (runs.size() > 1) {
    std::map<Time, std::pair<double, double>> band;
    for (const RunResult* run : runs)
      for (const auto& [t, c] : cost_by_time(*run)) {
        auto [it, fresh] = band.try_emplace(t, c, c);
        if (!fresh) it->second = {std::min(it->second.first, c), std::max(it->second.second, c)};
      }
    total.band = band_segments(band, resolution);
  }
  cost.lines.push_back(total);
  if (!set.baseline.empty() && set.baseline != s.label)
    for (const RunResult& r : set.runs)
      if (r.strategy == set.baseline && r.replication == first.replication) {
        Line base{set.baseline, "#999999", true, {}, {}};
        for (const auto& [t, c] : cost_by_time(r)) base.points.push_back({to_seconds(t), c});
        cost.lines.push_back(base);
        break;
      }

  StrategyCharts out;
  out.charts = {share, ready, errors, p99, cost};
  out.markers = markers_of(first);
  out.first = &first;
  out.runs = runs.size();
  return out;
}

void render_strategy(std::string& out, const RunSet& set, std::size_t index, const TimeAxis& axis) {
  const StrategySummary& s = set.summary[index];
  out += "<section id=\"strategy-" + std::to_string(index) + "\">\n<h2>" + html_escape(s.label);
  if (!s.name.empty() && s.name != s.label)
    out += " <span class=\"name\">(" + html_escape(s.name) + ")</span>";
  out += "</h2>\n";
  if (!s.params.empty()) out += "<p class=\"params\">" + html_escape(s.params) + "</p>\n";
  out += "<p>Outcomes: " + html_escape(format_outcomes(s)) + "</p>\n";

  const std::optional<StrategyCharts> built = strategy_charts(set, index);
  if (!built) {
    out += "<p>No runs.</p>\n</section>\n";
    return;
  }
  const RunResult& first = *built->first;
  const std::vector<Marker>& markers = built->markers;
  if (!markers.empty()) {
    out += "<p class=\"marks\">";
    for (const Marker& m : markers)
      out += "<span style=\"color:" + m.color + "\">" + html_escape(m.label) + "</span> " + clock(m.at) +
             (&m == &markers.back() ? "" : " \u00b7 ");
    out += "</p>\n";
  }
  out += "<div class=\"charts\">\n";
  for (const Chart& chart : built->charts)
    out += "<figure>" + svg_chart(chart, axis, markers) + "</figure>\n";
  out += "</div>\n<p class=\"note\">Lines: replication " + std::to_string(first.replication);
  if (built->runs > 1)
    out += "; shaded bands: min\u2013max over " + std::to_string(built->runs) + " replications";
  out += ". Error rate and latency are drawn only where a version answered requests.</p>\n";

  out += "<h3>Decisions (replication " + std::to_string(first.replication) + ")</h3>\n";
  if (first.marks.empty()) {
    out += "<p>None.</p>\n";
  } else {
    out +=
        "<table "
        "class=\"decisions\"><thead><tr><th>time</th><th>kind</th><th>reason</th></tr></thead><tbody>\n";
    for (const Mark& m : first.marks)
      out += "<tr><td>" + clock(m.time) + "</td><td>" + html_escape(to_string(m.kind)) + "</td><td>" +
             html_escape(m.reason) + "</td></tr>\n";
    out += "</tbody></table>\n";
  }
  out += "</section>\n";
}

const char* const kStyle =
    R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#222;margin:24px auto;max-width:1180px;padding:0 16px;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.3em}.meta,.params,.note{color:#555}.note{font-size:.9em}.name{color:#777;font-weight:normal}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #eee;vertical-align:top}
table.summary td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary td.text{text-align:left;white-space:normal}table.summary th{text-align:left}
.diff{color:#666;font-size:.85em}.n{color:#888;font-size:.85em}
table.decisions th{text-align:left}
table.decisions td:first-child{font-variant-numeric:tabular-nums;white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:8px 20px}figure{margin:0}
nav a{margin-right:1em}a{color:#0b5cab})";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_report(const RunSet& set) {
  const std::string name = html_escape(set.scenario_name.empty() ? "(unnamed scenario)" : set.scenario_name);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>deploysim report: " + name + "</title>\n<style>\n" + kStyle + "\n" + kChartStyle +
         "\n</style>\n</head>\n<body>\n";
  out += "<h1>deploysim report: " + name + "</h1>\n";
  if (!set.scenario_description.empty()) out += "<p>" + html_escape(set.scenario_description) + "</p>\n";
  out += "<p class=\"meta\">" + std::to_string(set.replications) + " replication" +
         (set.replications == 1 ? "" : "s") + ", seed " + std::to_string(set.seed) + ", duration " +
         html_escape(format_duration(set.duration)) + ", release at " + clock(set.release_at);
  if (!set.stable.empty() || !set.candidate.empty())
    out += ", " + html_escape(set.stable) + " \u2192 " + html_escape(set.candidate);
  if (!set.baseline.empty()) out += ", baseline " + html_escape(set.baseline);
  out += "</p>\n<h2>Summary</h2>\n";
  render_summary(out, set);

  if (!set.summary.empty()) {
    out += "<nav>";
    for (std::size_t i = 0; i < set.summary.size(); ++i)
      out += "<a href=\"#strategy-" + std::to_string(i) + "\">" + html_escape(set.summary[i].label) + "</a>";
    out += "</nav>\n";
  }
  const TimeAxis axis = report_axis(set);
  for (std::size_t i = 0; i < set.summary.size(); ++i) render_strategy(out, set, i, axis);
  out += "</body>\n</html>\n";
  return out;
}

std::vector<std::pair<std::string, std::string>> render_chart_files(const RunSet& set) {
  static const char* const kSlugs[] = {"traffic-share", "ready-replicas", "error-rate", "p99-latency",
                                       "cost"};
  std::vector<std::pair<std::string, std::string>> out;
  const TimeAxis axis = report_axis(set);
  for (std::size_t i = 0; i < set.summary.size(); ++i) {
    const std::optional<StrategyCharts> built = strategy_charts(set, i);
    if (!built) continue;
    std::string label;
    for (char c : set.summary[i].label)
      label += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    for (std::size_t k = 0; k < built->charts.size(); ++k)
      out.emplace_back(label + "-" + kSlugs[k] + ".svg",
                       "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" +
                           svg_chart(built->charts[k], axis, built->markers, true) + "\n");
  }
  return out;
}

}  // namespace sim

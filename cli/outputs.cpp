// Results of `deploysim run` as text and files: the side-by-side table, JSON and CSV, atomic writes.
#include "cli/outputs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/report.hpp"
#include "sim/core/text.hpp"

namespace sim {

namespace {

constexpr std::size_t kTerminalWidth = 120;
constexpr const char* kPlusMinus = " \u00b1 ";

/// Shortest text that reads back as the same double; empty for NaN.
std::string exact(double x) {
  if (std::isnan(x)) return "";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, result.ptr);
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  std::string s = buf;
  // "-0.00" reads as a sign where there is none.
  if (s[0] == '-' && s.find_first_not_of("0.", 1) == std::string::npos) s.erase(0, 1);
  return s;
}

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

/// `digits` significant digits without trailing zeros; scientific for very large or small values.
std::string significant(double x, int digits) {
  if (x == 0) return "0";
  const double ax = std::fabs(x);
  char buf[64];
  if (ax >= 1e9 || ax < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    return buf;
  }
  const int magnitude = static_cast<int>(std::floor(std::log10(ax)));
  return trim_zeros(fixed(x, std::max(0, digits - 1 - magnitude)));
}

/// Columns on a terminal: UTF-8 continuation bytes take no room.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad_right(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string pad_left(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

/// Breaks "a 1, b 2, c 3" after commas so that no line is wider than `width` (when it can).
std::vector<std::string> wrap_list(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(", ", start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma + 1 - start);
    start = comma == std::string::npos ? text.size() : comma + 2;
    if (!line.empty() && display_width(line) + 1 + display_width(item) > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + item;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

/// A cell of the text table: lines, and whether they are numbers aligned on " ± " or left-aligned text.
struct Cell {
  std::vector<std::string> lines;
  bool numeric = false;
};

struct Row {
  std::string label;
  std::vector<Cell> cells;
};

/// The part of a numeric cell before " ± " (or all of it) and the rest.
std::pair<std::string, std::string> split_estimate(const std::string& s) {
  const std::size_t at = s.find(kPlusMinus);
  if (at == std::string::npos) return {s, ""};
  return {s.substr(0, at), s.substr(at)};
}

std::string metric_cell(const MetricSummary* m, double scale, int replications) {
  if (!m || m->n == 0) return "-";
  std::string text = format_estimate(m->mean * scale, m->half_width * scale);
  if (m->n < static_cast<std::size_t>(replications) && text != "-")
    text += " (n=" + std::to_string(m->n) + ")";
  return text;
}

std::string diff_cell(const MetricSummary* m, double scale) {
  if (!m || m->diff_n == 0) return "-";
  return format_estimate(m->diff_mean * scale, m->diff_half_width * scale, true);
}

/// Renders rows for the strategy columns [first, last).
void render_block(std::string& out, const std::vector<Row>& rows, std::size_t label_width,
                  const std::vector<std::size_t>& left, const std::vector<std::size_t>& width,
                  std::size_t first, std::size_t last) {
  const std::string gap = "   ";
  for (const Row& row : rows) {
    std::size_t height = 1;
    for (std::size_t c = first; c < last; ++c) height = std::max(height, row.cells[c].lines.size());
    for (std::size_t line = 0; line < height; ++line) {
      std::string text = pad_right(line == 0 ? row.label : "", label_width);
      for (std::size_t c = first; c < last; ++c) {
        const Cell& cell = row.cells[c];
        std::string piece = line < cell.lines.size() ? cell.lines[line] : "";
        if (cell.numeric && !piece.empty()) {
          const auto [l, r] = split_estimate(piece);
          piece = pad_left(l, left[c]) + r;
        }
        text += gap + pad_right(piece, width[c]);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
    if (row.label.empty()) {  // the header: underline it
      std::string rule(label_width, '-');
      for (std::size_t c = first; c < last; ++c) rule += gap + std::string(width[c], '-');
      out += rule + "\n";
    }
  }
}

int outcome_rank(const std::string& outcome) {
  static const char* const order[] = {"promoted", "rolled_back", "stalled", "incomplete", "none"};
  for (int i = 0; i < 5; ++i)
    if (outcome == order[i]) return i;
  return 5;
}

std::vector<std::pair<std::string, int>> ordered_outcomes(const StrategySummary& s) {
  std::vector<std::pair<std::string, int>> items(s.outcomes.begin(), s.outcomes.end());
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return outcome_rank(a.first) < outcome_rank(b.first);
  });
  return items;
}

using Json = nlohmann::ordered_json;

Json number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

std::string os_error(int err) { return std::strerror(err); }

/// Writes all of `data` to a new file at `path` (which must not exist), then flushes it to disk.
/// Returns 0, or the errno of the first failure with nothing left at `path`.
int write_new_file(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  const char* p = data.data();
  std::size_t left = data.size();
  int err = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) ::unlink(path.c_str());
  return err;
}

}  // namespace

std::vector<TableMetric> table_metrics(const RunSet& set) {
  std::vector<TableMetric> rows = {
      {"deploy_duration_s", "deploy duration (s)", 1},
      {"downtime_s", "downtime (s)", 1},
      {"degraded_s", "SLO degraded (s)", 1},
      {"time_to_detect_s", "time to detect (s)", 1},
      {"rollback_time_s", "rollback time (s)", 1},
      {"exposure_users", "exposed users", 1},
      {"exposure_requests", "exposed requests", 1},
      {"bad_exposure_users", "bad exposure users", 1},
      {"bad_exposure_requests", "bad exposure requests", 1},
      {"failed_requests", "failed requests", 1},
      {"cost", "cost", 1},
      {"extra_cost", "extra cost", 1},
      {"latency_p99_s", "p99 latency (ms)", 1000},
  };
  for (const TableMetric optional :
       {TableMetric{"reward", "reward (conversions)", 1}, TableMetric{"regret", "regret", 1}}) {
    bool used = false;
    for (const StrategySummary& s : set.summary) {
      const MetricSummary* m = find_metric(s, optional.metric);
      used = used || (m && m->n > 0 && std::isfinite(m->mean) && m->mean != 0);
    }
    if (used) rows.push_back(optional);
  }
  return rows;
}

std::string format_estimate(double mean, double half_width, bool sign) {
  if (std::isnan(mean)) return "-";
  std::string text;
  if (std::isinf(mean)) {
    text = mean > 0 ? "inf" : "-inf";
  } else if (!std::isfinite(half_width)) {
    text = significant(mean, 4);
  } else if (half_width == 0) {
    text = significant(mean, 4) + kPlusMinus + "0";
  } else if (std::fabs(mean) >= 1e9 || half_width >= 1e9 || half_width < 1e-4) {
    text = significant(mean, 4) + kPlusMinus + significant(half_width, 2);
  } else {
    // Two significant digits of the half-width, the mean to the same place, but no more than six
    // significant digits of the mean.
    int decimals = 1 - static_cast<int>(std::floor(std::log10(half_width)));
    bool capped = false;
    if (mean != 0) {
      const int most = 5 - static_cast<int>(std::floor(std::log10(std::fabs(mean))));
      if (decimals > most) {
        decimals = most;
        capped = true;
      }
    }
    if (decimals >= 0) {
      text = fixed(mean, decimals) + kPlusMinus +
             (capped ? significant(half_width, 2) : fixed(half_width, decimals));
    } else {  // round to tens, hundreds...
      const double unit = std::pow(10.0, -decimals);
      text = fixed(std::round(mean / unit) * unit, 0) + kPlusMinus +
             (capped ? significant(half_width, 2) : fixed(std::round(half_width / unit) * unit, 0));
    }
  }
  if (sign && text[0] != '-') text = "+" + text;
  return text;
}

std::string format_outcomes(const StrategySummary& s) {
  std::string text;
  for (const auto& [outcome, count] : ordered_outcomes(s))
    text += (text.empty() ? "" : ", ") + outcome + " " + std::to_string(count);
  return text.empty() ? "-" : text;
}

const MetricSummary* find_metric(const StrategySummary& s, const std::string& metric) {
  for (const MetricSummary& m : s.metrics)
    if (m.name == metric) return &m;
  return nullptr;
}

std::string format_table(const RunSet& set) {
  constexpr std::size_t kMaxCell = 20;
  const std::size_t columns = set.summary.size();
  std::string baseline = set.baseline;
  if (display_width(baseline) > 12) baseline = baseline.substr(0, 11) + "~";

  std::vector<Row> rows;
  Row header{"", {}};
  bool any_name = false;
  for (const StrategySummary& s : set.summary) any_name = any_name || (!s.name.empty() && s.name != s.label);
  for (const StrategySummary& s : set.summary) {
    Cell cell{{s.label}, false};
    if (any_name) cell.lines.push_back(!s.name.empty() && s.name != s.label ? "(" + s.name + ")" : "");
    header.cells.push_back(cell);
  }
  rows.push_back(header);
  Row outcome{"outcome", {}};
  for (const StrategySummary& s : set.summary) outcome.cells.push_back({{format_outcomes(s)}, false});
  rows.push_back(outcome);
  for (const TableMetric& tm : table_metrics(set)) {
    Row value{tm.label, {}};
    Row diff{"  \u0394 vs " + baseline, {}};
    for (const StrategySummary& s : set.summary) {
      const MetricSummary* m = find_metric(s, tm.metric);
      value.cells.push_back({{metric_cell(m, tm.scale, set.replications)}, true});
      diff.cells.push_back({{s.label == set.baseline ? "" : diff_cell(m, tm.scale)}, true});
    }
    rows.push_back(value);
    if (!set.baseline.empty() && columns > 1) rows.push_back(diff);
  }

  std::size_t label_width = 0;
  for (const Row& row : rows) label_width = std::max(label_width, display_width(row.label));
  std::vector<std::size_t> left(columns, 0), right(columns, 0), width(columns, 0);
  for (const Row& row : rows)
    for (std::size_t c = 0; c < columns; ++c)
      for (const std::string& line : row.cells[c].lines)
        if (row.cells[c].numeric) {
          const auto [l, r] = split_estimate(line);
          left[c] = std::max(left[c], display_width(l));
          right[c] = std::max(right[c], display_width(r));
        }
  const auto measure = [&] {
    std::size_t total = label_width;
    for (std::size_t c = 0; c < columns; ++c) {
      width[c] = left[c] + right[c];
      for (const Row& row : rows)
        for (const std::string& line : row.cells[c].lines)
          if (!row.cells[c].numeric) width[c] = std::max(width[c], display_width(line));
      total += 3 + width[c];
    }
    return total;
  };
  if (measure() > kTerminalWidth) {
    // Outcome lists are the widest text: wrap them to the numbers' width (or kMaxCell) and measure again.
    for (std::size_t c = 0; c < columns; ++c) {
      std::size_t limit = std::max(kMaxCell, left[c] + right[c]);
      for (const std::string& line : rows[0].cells[c].lines) limit = std::max(limit, display_width(line));
      rows[1].cells[c].lines = wrap_list(rows[1].cells[c].lines.front(), limit);
    }
    measure();
  }

  char buf[256];
  std::snprintf(buf, sizeof buf, "%d replication%s, seed %llu; mean \u00b1 95%% CI half-width",
                set.replications, set.replications == 1 ? "" : "s",
                static_cast<unsigned long long>(set.seed));
  std::string out = "scenario " + set.scenario_name + ": " + buf + "\n\n";
  std::size_t first = 0;
  while (first < columns) {
    std::size_t last = first + 1, used = label_width + 3 + width[first];
    while (last < columns && used + 3 + width[last] <= kTerminalWidth) used += 3 + width[last++];
    if (first > 0) out += "\n";
    render_block(out, rows, label_width, left, width, first, last);
    first = last;
  }
  if (columns == 0) out += "(no strategies)\n";
  if (!set.baseline.empty() && columns > 1)
    out += "\n\u0394: paired difference, strategy minus " + set.baseline +
           ", over the replications where both are defined\n";
  bool partial = false;
  for (const StrategySummary& s : set.summary)
    for (const MetricSummary& m : s.metrics)
      partial = partial || (m.n > 0 && static_cast<int>(m.n) < set.replications);
  if (partial)
    out += "(n=k): the metric is defined in k replications only (e.g. rollback time without a rollback)\n";
  return out;
}

std::string summary_json(const RunSet& set) {
  Json root;
  Json& scenario = root["scenario"];
  scenario["name"] = set.scenario_name;
  scenario["description"] = set.scenario_description;
  scenario["seed"] = set.seed;
  scenario["replications"] = set.replications;
  scenario["duration_s"] = number(to_seconds(set.duration));
  scenario["release_at_s"] = number(to_seconds(set.release_at));
  scenario["stable"] = set.stable;
  scenario["candidate"] = set.candidate;
  scenario["versions"] = set.versions;
  root["baseline"] = set.baseline;
  Json strategies = Json::array();
  for (const StrategySummary& s : set.summary) {
    Json js;
    js["label"] = s.label;
    js["name"] = s.name;
    js["params"] = s.params;
    js["outcomes"] = Json::object();
    for (const auto& [outcome, count] : ordered_outcomes(s)) js["outcomes"][outcome] = count;
    js["metrics"] = Json::object();
    for (const MetricSummary& m : s.metrics) {
      Json jm;
      jm["n"] = m.n;
      jm["mean"] = number(m.mean);
      jm["ci95_half_width"] = number(m.half_width);
      jm["diff_n"] = m.diff_n;
      jm["diff_mean"] = number(m.diff_mean);
      jm["diff_ci95_half_width"] = number(m.diff_half_width);
      js["metrics"][m.name] = jm;
    }
    strategies.push_back(js);
  }
  root["strategies"] = strategies;
  Json runs = Json::array();
  for (const RunResult& r : set.runs) {
    Json jr;
    jr["strategy"] = r.strategy;
    jr["replication"] = r.replication;
    jr["outcome"] = r.metrics.outcome;
    Json metrics = Json::object();
    for (const auto& [name, value] : r.metrics.fields()) metrics[name] = number(value);
    metrics["extra_cost"] = number(r.extra_cost);
    jr["metrics"] = metrics;
    Json marks = Json::array();
    for (const Mark& m : r.marks)
      marks.push_back(
          Json{{"time_s", number(to_seconds(m.time))}, {"kind", to_string(m.kind)}, {"reason", m.reason}});
    jr["marks"] = marks;
    runs.push_back(jr);
  }
  root["runs"] = runs;
  return root.dump(2) + "\n";
}

std::string summary_csv(const RunSet& set) {
  std::string out = "strategy,metric,n,mean,ci95_half_width,diff_n,diff_mean,diff_ci95_half_width\n";
  for (const StrategySummary& s : set.summary)
    for (const MetricSummary& m : s.metrics)
      out += csv_field(s.label) + "," + csv_field(m.name) + "," + std::to_string(m.n) + "," + exact(m.mean) +
             "," + exact(m.half_width) + "," + std::to_string(m.diff_n) + "," + exact(m.diff_mean) + "," +
             exact(m.diff_half_width) + "\n";
  return out;
}

std::string results_csv(const RunSet& set) {
  std::string out = "strategy,replication,outcome";
  for (const auto& field : OutcomeMetrics{}.fields()) out += "," + field.first;
  out += ",extra_cost\n";
  for (const RunResult& r : set.runs) {
    out += csv_field(r.strategy) + "," + std::to_string(r.replication) + "," + csv_field(r.metrics.outcome);
    for (const auto& field : r.metrics.fields()) {
      out += ',';
      out += exact(field.second);
    }
    out += ',';
    out += exact(r.extra_cost);
    out += '\n';
  }
  return out;
}

std::string timeseries_csv(const RunSet& set) {
  std::string out =
      "strategy,replication,time_s,version,requests,traffic_share,ready,error_rate,latency_p99_s,cost\n";
  for (const RunResult& r : set.runs) {
    const std::string prefix = csv_field(r.strategy) + "," + std::to_string(r.replication) + ",";
    for (const TimeSeriesRow& row : r.timeseries) {
      const std::string version = row.version < set.versions.size() ? csv_field(set.versions[row.version])
                                                                    : std::to_string(row.version);
      out += prefix + exact(to_seconds(row.time)) + "," + version + "," + std::to_string(row.requests) + "," +
             exact(row.traffic_share) + "," + std::to_string(row.ready) + "," + exact(row.error_rate) + "," +
             exact(row.latency_p99_s) + "," + exact(row.cost) + "\n";
    }
  }
  return out;
}

std::string marks_csv(const RunSet& set) {
  std::string out = "strategy,replication,time_s,kind,reason\n";
  for (const RunResult& r : set.runs)
    for (const Mark& m : r.marks)
      out += csv_field(r.strategy) + "," + std::to_string(r.replication) + "," + exact(to_seconds(m.time)) +
             "," + to_string(m.kind) + "," + csv_field(m.reason) + "\n";
  return out;
}

const std::vector<std::string>& output_files() {
  static const std::vector<std::string> names = {"summary.json",   "summary.csv", "results.csv",
                                                 "timeseries.csv", "marks.csv",   "report.html"};
  return names;
}

void write_outputs(const RunSet& set, const std::string& dir, bool charts) {
  namespace fs = std::filesystem;
  // Everything is rendered before the file system is touched.
  std::vector<std::string> contents = {summary_json(set),   summary_csv(set), results_csv(set),
                                       timeseries_csv(set), marks_csv(set),   render_report(set)};
  std::vector<std::string> names = output_files();
  if (charts) {
    for (auto& [name, svg] : render_chart_files(set)) {
      names.push_back(kChartsDir + std::string("/") + name);
      contents.push_back(std::move(svg));
    }
  }

  std::string trimmed = dir.empty() ? "." : dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const fs::path root(trimmed);

  // The directories this call creates, deepest first, so that a failure can remove them again.
  std::vector<fs::path> created;
  std::error_code ec;
  for (fs::path p = root; !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::vector<std::string> temps;  // written and not yet renamed
  const auto fail = [&](const std::string& message) {
    for (const std::string& t : temps) ::unlink(t.c_str());
    for (const fs::path& p : created) fs::remove(p, ec);  // only while empty
    throw std::runtime_error(message);
  };
  fs::create_directories(root, ec);
  if (ec) fail("cannot create output directory " + sim::quoted(dir) + ": " + ec.message());
  if (!fs::is_directory(root, ec)) fail("cannot write into " + sim::quoted(dir) + ": " + os_error(ENOTDIR));
  if (charts) {
    const fs::path sub = root / kChartsDir;
    if (!fs::exists(fs::symlink_status(sub, ec))) created.insert(created.begin(), sub);
    fs::create_directories(sub, ec);
    if (ec || !fs::is_directory(sub, ec))
      fail("cannot create " + sim::quoted(sub.string()) + ": " + (ec ? ec.message() : os_error(ENOTDIR)));
  }

  static std::atomic<unsigned> counter{0};

  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string target = (root / names[i]).string();
    int err = EEXIST;
    std::string temp;
    for (int attempt = 0; attempt < 100 && err == EEXIST; ++attempt) {
      const fs::path name(names[i]);
      temp = (root / name.parent_path() /
              ("." + name.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
               std::to_string(counter++)))
                 .string();
      err = write_new_file(temp, contents[i]);
    }
    if (err == 0) temps.push_back(temp);
    if (err != 0) fail("cannot write " + sim::quoted(target) + ": " + os_error(err));
  }
  // A rename over a directory would fail half-way through: refuse before replacing anything.
  for (const std::string& name : names) {
    struct stat st;
    const std::string target = (root / name).string();
    if (::lstat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      fail("cannot replace " + sim::quoted(target) + ": " + os_error(EISDIR));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string target = (root / names[i]).string();
    if (::rename(temps.front().c_str(), target.c_str()) != 0) {
      const int err = errno;
      fail("cannot write " + sim::quoted(target) + ": " + os_error(err) +
           (i > 0 ? " (the files written before it were replaced)" : ""));
    }
    temps.erase(temps.begin());
  }
}

}  // namespace sim

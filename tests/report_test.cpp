// Tests for the CLI outputs: text table, JSON/CSV, the HTML report (also in a real browser) and atomic
// writes.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/outputs.hpp"
#include "cli/report.hpp"

using namespace sim;
namespace fs = std::filesystem;

namespace {

const double kNaN = kNotApplicable;

/// A fresh directory under the system temporary directory, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "deploysim-report-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

RunResult make_run(const std::string& strategy, std::uint64_t replication, const std::string& outcome,
                   int minutes) {
  RunResult r;
  r.strategy = strategy;
  r.replication = replication;
  r.metrics.outcome = outcome;
  r.metrics.requests = 1000 + replication;
  r.metrics.cost = 12 + 0.5 * static_cast<double>(replication) + (strategy == "none" ? 0 : 3);
  r.metrics.latency_p99_s = 0.1;  // not exactly representable: checks the round trip
  r.extra_cost = r.metrics.cost - 12;
  r.events = 5000;
  const bool release = strategy != "none";
  for (int m = 1; m <= minutes; ++m) {
    const Time t = m * kMinute;
    const bool candidate_on = release && m > 10 && m <= 25;
    const double share = candidate_on ? 0.2 : 0.0;
    r.timeseries.push_back(
        {t, 0, 100, 1 - share, 4, 0.001 * static_cast<double>(replication), 0.08 + 0.001 * m, 0.01 * m});
    r.timeseries.push_back({t, 1, candidate_on ? 25u : 0u, share, candidate_on ? 1 : 0,
                            candidate_on ? 0.05 : 0.0, candidate_on ? 0.2 : 0.0, 0.01 * m});
  }
  return r;
}

MetricSummary metric(const std::string& name, std::size_t n, double mean, double half_width,
                     std::size_t diff_n = 0, double diff_mean = kNaN, double diff_half_width = kNaN) {
  return MetricSummary{name, n, mean, half_width, diff_n, diff_mean, diff_half_width};
}

/// 2 strategies x 2 replications, with NaN metrics, marks and hostile text.
RunSet synthetic_set(int minutes = 60) {
  RunSet set;
  set.scenario_name = "synthetic-canary";
  set.scenario_description = "Canary <script>alert(\"x\")</script> & friends";
  set.seed = 42;
  set.replications = 2;
  set.duration = minutes * kMinute;
  set.release_at = 10 * kMinute;
  set.stable = "v1";
  set.candidate = "v2";
  set.versions = {"v1", "v2"};
  set.baseline = "none";
  set.runs.push_back(make_run("none", 0, "none", minutes));
  set.runs.push_back(make_run("none", 1, "none", minutes));
  set.runs.push_back(make_run("canary", 0, "rolled_back", minutes));
  set.runs.push_back(make_run("canary", 1, "promoted", minutes));
  RunResult& rolled = set.runs[2];
  rolled.metrics.deploy_duration_s = 1020;
  rolled.metrics.time_to_detect_s = 300;
  rolled.metrics.rollback_time_s = 120;
  rolled.marks = {{MarkKind::release_start, 10 * kMinute, "canary step 1: weight 20%"},
                  {MarkKind::abort, 25 * kMinute, "error rate 5% > 1% <threshold>"},
                  {MarkKind::note, 27 * kMinute, "rolled back: all live traffic on v1"}};
  set.runs[3].metrics.deploy_duration_s = 1800;
  set.runs[3].marks = {{MarkKind::release_start, 10 * kMinute, "canary step 1"},
                       {MarkKind::promoted, 40 * kMinute + 500 * kMillisecond, "analysis passed"}};

  StrategySummary none{"none", "none", "", {{"none", 2}}, {}};
  StrategySummary canary{
      "canary", "canary", "steps=[20%, 50%], interval=5m", {{"promoted", 1}, {"rolled_back", 1}}, {}};
  for (const auto& [name, value] : OutcomeMetrics{}.fields()) {
    none.metrics.push_back(metric(name, 0, kNaN, kNaN));
    canary.metrics.push_back(metric(name, 0, kNaN, kNaN));
  }
  none.metrics.push_back(metric("extra_cost", 2, 0.25, 3.2));
  canary.metrics.push_back(metric("extra_cost", 2, 3.25, 3.2, 2, 3, 0));
  const auto set_metric = [](StrategySummary& s, const MetricSummary& m) {
    for (MetricSummary& old : s.metrics)
      if (old.name == m.name) old = m;
  };
  set_metric(none, metric("cost", 2, 12.25, 3.2));
  set_metric(canary, metric("cost", 2, 15.25, 3.2, 2, 3, 0));
  set_metric(none, metric("downtime_s", 2, 0, 0));
  set_metric(canary, metric("downtime_s", 2, 12.5, 0.25, 2, 12.5, 0.25));
  set_metric(canary, metric("deploy_duration_s", 2, 1410, 2477.9));
  set_metric(canary, metric("rollback_time_s", 1, 120, kNaN));
  set_metric(none, metric("failed_requests", 2, 1234.5678, 12.3));
  set_metric(canary, metric("failed_requests", 2, 2234.5, 40.1, 2, 1000, 3));
  set_metric(none, metric("latency_p99_s", 2, 0.1, 0.0015));
  set_metric(canary, metric("latency_p99_s", 2, 0.1, 0.0015, 2, 0, 0));
  set.summary = {none, canary};
  return set;
}

std::string line_starting(const std::string& text, const std::string& prefix) {
  for (const std::string& line : lines_of(text))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

}  // namespace

TEST_CASE("cli/report: estimates are rounded to the half-width", "[cli]") {
  CHECK(format_estimate(12.5, 0.25) == "12.50 \u00b1 0.25");
  CHECK(format_estimate(1234.5678, 12.3) == "1235 \u00b1 12");
  CHECK(format_estimate(120, kNaN) == "120");
  CHECK(format_estimate(0.1234567, kNaN) == "0.1235");
  CHECK(format_estimate(kNaN, 1) == "-");
  CHECK(format_estimate(3, 1.5, true) == "+3.0 \u00b1 1.5");
  CHECK(format_estimate(-3, 1.5, true) == "-3.0 \u00b1 1.5");
  CHECK(format_estimate(-0.001, 0.5) == "0.00 \u00b1 0.50");
  CHECK(format_estimate(7, 0) == "7 \u00b1 0");
  CHECK(format_estimate(123456.789, 0.001) == "123457 \u00b1 0.001");
}

TEST_CASE("cli/report: side-by-side table", "[cli]") {
  const RunSet set = synthetic_set();
  const std::string table = format_table(set);
  INFO(table);
  CHECK_THAT(table, Catch::Contains("synthetic-canary"));
  const std::string header = lines_of(table).at(2);
  CHECK(header.find("none") < header.find("canary"));
  CHECK_THAT(line_starting(table, "outcome"), Catch::Contains("promoted 1, rolled_back 1"));
  CHECK_THAT(line_starting(table, "outcome"), Catch::Contains("none 2"));
  const std::string cost = line_starting(table, "cost ");
  CHECK_THAT(cost, Catch::Contains("12.2 \u00b1 3.2") && Catch::Contains("15.2 \u00b1 3.2"));
  const std::string downtime = line_starting(table, "downtime");
  CHECK_THAT(downtime, Catch::Contains("0 \u00b1 0") && Catch::Contains("12.50 \u00b1 0.25"));
  CHECK_THAT(line_starting(table, "p99 latency (ms)"), Catch::Contains("100.0 \u00b1 1.5"));
  // NaN (no value in any replication) is "-"; a metric defined in one replication says so.
  const std::string deploy = line_starting(table, "deploy duration");
  CHECK_THAT(deploy, Catch::Contains(" - ") && Catch::Contains("1400 \u00b1 2500"));
  CHECK_THAT(line_starting(table, "rollback time"), Catch::Contains("120 (n=1)"));
  // Paired differences vs the baseline, only for the other strategies.
  const std::vector<std::string> lines = lines_of(table);
  std::size_t diffs = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    if (lines[i].rfind("failed requests", 0) == 0) {
      CHECK_THAT(lines[i], Catch::Contains("1235 \u00b1 12") && Catch::Contains("2234 \u00b1 40"));
      CHECK_THAT(lines[i + 1],
                 Catch::StartsWith("  \u0394 vs none") && Catch::Contains("+1000.0 \u00b1 3.0"));
      ++diffs;
    }
  CHECK(diffs == 1);
  for (const std::string& line : lines) CHECK(display_width(line) <= 120);
}

TEST_CASE("cli/report: many strategies wrap into blocks within 120 columns", "[cli]") {
  RunSet set = synthetic_set();
  for (int i = 0; i < 8; ++i) {
    StrategySummary s = set.summary[1];
    s.label = "canary-variant-" + std::to_string(i);
    set.summary.push_back(s);
  }
  const std::string table = format_table(set);
  INFO(table);
  for (const std::string& line : lines_of(table)) CHECK(display_width(line) <= 120);
  for (const StrategySummary& s : set.summary) CHECK_THAT(table, Catch::Contains(s.label));
  CHECK(count(table, "\noutcome") >= 2);
}

TEST_CASE("cli/report: summary JSON parses back with null for NaN", "[cli]") {
  const RunSet set = synthetic_set();
  const std::string text = summary_json(set);
  CHECK(text == summary_json(set));
  const nlohmann::json j = nlohmann::json::parse(text);
  CHECK(j["scenario"]["name"] == "synthetic-canary");
  CHECK(j["scenario"]["description"] == set.scenario_description);
  CHECK(j["scenario"]["seed"] == 42);
  CHECK(j["scenario"]["duration_s"] == 3600.0);
  CHECK(j["baseline"] == "none");
  REQUIRE(j["strategies"].size() == 2);
  const auto& canary = j["strategies"][1];
  CHECK(canary["label"] == "canary");
  CHECK(canary["params"] == "steps=[20%, 50%], interval=5m");
  CHECK(canary["outcomes"]["promoted"] == 1);
  CHECK(canary["outcomes"]["rolled_back"] == 1);
  CHECK(canary["metrics"]["cost"]["mean"] == 15.25);
  CHECK(canary["metrics"]["cost"]["diff_mean"] == 3.0);
  CHECK(canary["metrics"]["cost"]["diff_ci95_half_width"] == 0.0);
  CHECK(canary["metrics"]["rollback_time_s"]["n"] == 1);
  CHECK(canary["metrics"]["rollback_time_s"]["ci95_half_width"].is_null());
  CHECK(j["strategies"][0]["metrics"]["deploy_duration_s"]["mean"].is_null());
  CHECK(j["strategies"][0]["metrics"]["cost"]["diff_mean"].is_null());
  REQUIRE(j["runs"].size() == 4);
  const auto& run = j["runs"][2];
  CHECK(run["strategy"] == "canary");
  CHECK(run["outcome"] == "rolled_back");
  CHECK(run["metrics"]["latency_p99_s"] == 0.1);
  CHECK(run["metrics"]["deploy_duration_s"] == 1020.0);
  CHECK(j["runs"][0]["metrics"]["deploy_duration_s"].is_null());
  CHECK(run["marks"][1]["kind"] == "abort");
  CHECK(run["marks"][1]["time_s"] == 1500.0);
}

TEST_CASE("cli/report: CSV files", "[cli]") {
  const RunSet set = synthetic_set();
  const std::size_t fields = OutcomeMetrics{}.fields().size();

  const auto summary = lines_of(summary_csv(set));
  CHECK(summary.at(0) == "strategy,metric,n,mean,ci95_half_width,diff_n,diff_mean,diff_ci95_half_width");
  CHECK(summary.size() == 1 + 2 * (fields + 1));
  CHECK(std::count(summary.begin(), summary.end(), "canary,cost,2,15.25,3.2,2,3,0") == 1);
  CHECK(std::count(summary.begin(), summary.end(), "none,deploy_duration_s,0,,,0,,") == 1);

  const auto results = lines_of(results_csv(set));
  CHECK_THAT(results.at(0), Catch::StartsWith("strategy,replication,outcome,deploy_duration_s,downtime_s,") &&
                                Catch::EndsWith(",regret,extra_cost"));
  CHECK(std::count(results[0].begin(), results[0].end(), ',') == static_cast<long>(3 + fields));
  CHECK(results.size() == 5);
  CHECK_THAT(results[3], Catch::StartsWith("canary,0,rolled_back,1020,"));
  CHECK_THAT(results[1], Catch::StartsWith("none,0,none,,"));  // NaN deploy duration: empty field
  CHECK_THAT(results[1], Catch::Contains(",0.1,"));            // shortest exact form

  const std::string ts = timeseries_csv(set);
  const auto ts_lines = lines_of(ts);
  CHECK(ts_lines.at(0) ==
        "strategy,replication,time_s,version,requests,traffic_share,ready,error_rate,latency_p99_s,cost");
  CHECK(ts_lines.size() == 1 + 4 * 60 * 2);
  CHECK(ts_lines.at(1) == "none,0,60,v1,100,1,4,0,0.081,0.01");
  CHECK(ts == timeseries_csv(synthetic_set()));

  const auto marks = lines_of(marks_csv(set));
  CHECK(marks.at(0) == "strategy,replication,time_s,kind,reason");
  CHECK(marks.size() == 1 + 5);
  CHECK(marks.at(2) == "canary,0,1500,abort,error rate 5% > 1% <threshold>");
  CHECK(marks.at(5) == "canary,1,2400.5,promoted,analysis passed");
}

TEST_CASE("cli/report: CSV fields with commas and quotes are quoted", "[cli]") {
  RunSet set = synthetic_set();
  set.runs[2].marks[0].reason = "weight 20%, then \"pause\"";
  CHECK_THAT(marks_csv(set),
             Catch::Contains("canary,0,600,release_start,\"weight 20%, then \"\"pause\"\"\"\n"));
}

TEST_CASE("cli/report: HTML report", "[cli]") {
  RunSet set = synthetic_set();
  const std::string html = render_report(set);
  CHECK(html == render_report(set));
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, Catch::Contains("<title>deploysim report: synthetic-canary</title>"));

  SECTION("five charts per strategy") {
    CHECK(count(html, "<svg") == 10);
    CHECK(count(html, "</svg>") == 10);
    const std::size_t second = html.find("<section id=\"strategy-1\"");
    REQUIRE(second != std::string::npos);
    const std::size_t first = html.find("<section id=\"strategy-0\"");
    CHECK(count(html.substr(first, second - first), "<svg") == 5);
    CHECK(count(html.substr(second), "<svg") == 5);
    for (const char* title :
         {"Traffic share", "Ready replicas", "Error rate", "p99 latency", "Cost (cumulative)"})
      CHECK(count(html, std::string(">") + title + "</text>") == 2);
    CHECK_THAT(html, Catch::Contains("time (min)"));
    CHECK_THAT(html, Catch::Contains("class=\"band\""));  // two replications: min-max bands
  }

  SECTION("markers and decisions") {
    CHECK_THAT(html, Catch::Contains(">release</text>"));
    CHECK_THAT(html, Catch::Contains(">detection/abort</text>"));
    CHECK_THAT(html, Catch::Contains(">rollback complete</text>"));
    CHECK_THAT(html, Catch::Contains(
                         "<td>0:25:00</td><td>abort</td><td>error rate 5% &gt; 1% &lt;threshold&gt;</td>"));
    CHECK(count(html, "class=\"marker\"") == 5 * 3);
    set.runs[2].marks.push_back({MarkKind::promoted, 50 * kMinute, "promoted anyway"});
    CHECK_THAT(render_report(set), Catch::Contains(">promotion</text>"));
  }

  SECTION("text is escaped") {
    CHECK(html.find("<script") == std::string::npos);
    CHECK_THAT(html,
               Catch::Contains("Canary &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends"));
    CHECK(html_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
  }

  SECTION("self-contained") {
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
  }

  SECTION("summary table") {
    CHECK_THAT(html, Catch::Contains("<table class=\"summary\">"));
    CHECK_THAT(html, Catch::Contains("15.2 \u00b1 3.2<br><span class=\"diff\">\u0394 +3 \u00b1 0</span>"));
    CHECK_THAT(html, Catch::Contains("promoted 1, rolled_back 1"));
  }
}

TEST_CASE("cli/report: long time series are thinned to at most 600 points per line", "[cli]") {
  const RunSet set = synthetic_set(24 * 60 * 4);  // four days at one sample per minute
  const std::string html = render_report(set);
  CHECK_THAT(html, Catch::Contains("time (d)"));
  std::size_t paths = 0;
  for (std::size_t at = html.find("class=\"line\" d=\""); at != std::string::npos;
       at = html.find("class=\"line\" d=\"", at + 1)) {
    const std::size_t end = html.find('"', at + 16);
    const std::string d = html.substr(at + 16, end - at - 16);
    CHECK(count(d, "M") + count(d, "L") <= 600);
    ++paths;
  }
  CHECK(paths >= 10);
  CHECK(html.size() < 1'000'000);
}

TEST_CASE("cli/report: write_outputs writes every file and no temporaries", "[cli]") {
  const RunSet set = synthetic_set();
  TempDir tmp;
  const fs::path dir = tmp.path() / "out" / "nested";
  write_outputs(set, dir.string());
  const std::set<std::string> expected(output_files().begin(), output_files().end());
  CHECK(expected.size() == 6);
  CHECK(entries(dir) == expected);
  CHECK(read_text(dir / "summary.json") == summary_json(set));
  CHECK(read_text(dir / "summary.csv") == summary_csv(set));
  CHECK(read_text(dir / "results.csv") == results_csv(set));
  CHECK(read_text(dir / "timeseries.csv") == timeseries_csv(set));
  CHECK(read_text(dir / "marks.csv") == marks_csv(set));
  CHECK(read_text(dir / "report.html") == render_report(set));

  // Again, over the existing files.
  RunSet other = set;
  other.scenario_name = "second-run";
  write_outputs(other, dir.string() + "/");
  CHECK(entries(dir) == expected);
  CHECK_THAT(read_text(dir / "report.html"), Catch::Contains("second-run"));
}

TEST_CASE("cli/report: the charts as standalone SVG files", "[cli]") {
  const RunSet set = synthetic_set();
  const auto files = render_chart_files(set);
  REQUIRE(files.size() == 5 * set.summary.size());
  const std::string label = set.summary[0].label;
  CHECK(files[0].first == label + "-traffic-share.svg");
  CHECK(files[4].first == label + "-cost.svg");
  for (const auto& [name, svg] : files) {
    CHECK_THAT(svg, Catch::StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<svg class=\"chart\""));
    CHECK_THAT(svg, Catch::Contains("xmlns=\"http://www.w3.org/2000/svg\"") &&
                        Catch::Contains("<style>svg.chart{") && Catch::Contains("</svg>"));
  }
  // The same drawing as in the report, which carries the style once for the page.
  const std::string report = render_report(set);
  const std::string& first = files[0].second;
  const std::string body = first.substr(first.find("</style>") + 9);
  CHECK_THAT(report, Catch::Contains(body.substr(0, body.size() - 7)));
  CHECK_THAT(report, !Catch::Contains("xmlns="));

  TempDir tmp;
  const fs::path dir = tmp.path() / "out";
  write_outputs(set, dir.string(), true);
  std::set<std::string> expected(output_files().begin(), output_files().end());
  expected.insert("charts");
  CHECK(entries(dir) == expected);
  std::set<std::string> charts;
  for (const auto& [name, svg] : files) charts.insert(name);
  CHECK(entries(dir / "charts") == charts);
  CHECK(read_text(dir / "charts" / files[3].first) == files[3].second);
}

TEST_CASE("cli/report: write_outputs fails cleanly", "[cli]") {
  const RunSet set = synthetic_set();
  TempDir tmp;

  SECTION("a path under a regular file") {
    std::ofstream(tmp.path() / "blocker") << "not a directory\n";
    const std::string dir = (tmp.path() / "blocker" / "out").string();
    CHECK_THROWS_WITH(write_outputs(set, dir), Catch::Contains(dir) && Catch::Contains("Not a directory"));
    CHECK(entries(tmp.path()) == std::set<std::string>{"blocker"});
    CHECK(read_text(tmp.path() / "blocker") == "not a directory\n");
  }

  SECTION("an output name taken by a directory: existing files stay as they were") {
    const fs::path dir = tmp.path() / "out";
    fs::create_directories(dir / "report.html");
    std::ofstream(dir / "summary.json") << "old";
    CHECK_THROWS_WITH(write_outputs(set, dir.string()), Catch::Contains((dir / "report.html").string()));
    CHECK(entries(dir) == std::set<std::string>{"report.html", "summary.json"});
    CHECK(read_text(dir / "summary.json") == "old");
  }

  SECTION("a directory that cannot be written") {
    if (::geteuid() == 0) {
      WARN("running as root: permissions do not stop writes, part skipped");
    } else {
      const fs::path dir = tmp.path() / "readonly";
      fs::create_directories(dir);
      fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
      CHECK_THROWS_WITH(write_outputs(set, dir.string()), Catch::Contains((dir / "summary.json").string()) &&
                                                              Catch::Contains("Permission denied"));
      fs::permissions(dir, fs::perms::owner_all);
      CHECK(entries(dir).empty());
    }
  }
}

TEST_CASE("cli/report: the report renders in a real browser", "[cli][browser]") {
  const char* const chromium = "/usr/bin/chromium";
  if (::access(chromium, X_OK) != 0) {
    WARN("chromium is not installed: browser check skipped");
    return;
  }
  const RunSet set = synthetic_set();
  TempDir tmp;
  const fs::path report = tmp.path() / "report.html";
  std::ofstream(report, std::ios::binary) << render_report(set);
  const fs::path dom = tmp.path() / "dom.html";
  const std::string command = std::string(chromium) +
                              " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                              " --disable-background-networking --disable-component-update --disable-sync"
                              " --user-data-dir='" +
                              (tmp.path() / "profile").string() + "' --dump-dom 'file://" + report.string() +
                              "' > '" + dom.string() + "' 2> '" + (tmp.path() / "stderr.txt").string() + "'";
  const int status = std::system(command.c_str());
  INFO(read_text(tmp.path() / "stderr.txt"));
  REQUIRE(status == 0);
  const std::string text = read_text(dom);
  CHECK_THAT(text, Catch::Contains("<title>deploysim report: synthetic-canary</title>"));
  CHECK(count(text, "<svg") == 10);
  CHECK(count(text, "<path class=\"line\"") >= 10);
  CHECK_THAT(text, Catch::Contains("detection/abort"));
  CHECK(text.find("<script") == std::string::npos);
}

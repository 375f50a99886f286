// Tests for arrival processes: counts against their expected values, and trace replay against the NASA trace.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "sim/world/arrivals.hpp"

using namespace sim;

namespace {

const std::string kDataDir = DEPLOYSIM_DATA_DIR;
const std::string kPerMinute = kDataDir + "/traces/nasa_ksc_jul1995_requests_per_minute.csv";
const std::string kPerSecond = kDataDir + "/traces/nasa_ksc_jul1995_requests_per_second_days1-7.csv";
constexpr double kPerMinuteTotal = 1891672;

// Every arrival in (start, end), checking that each call moves strictly forward.
std::vector<Time> run(ArrivalProcess& process, Time start, Time end, Rng& rng) {
  std::vector<Time> out;
  Time t = start;
  bool forward = true;
  while (true) {
    const Time next = process.next(t, rng);
    forward = forward && next > t;
    if (next >= end || !forward) break;
    out.push_back(next);
    t = next;
  }
  REQUIRE(forward);
  return out;
}

double count_in(const std::vector<Time>& times, Time from, Time to) {
  return static_cast<double>(std::lower_bound(times.begin(), times.end(), to) -
                             std::lower_bound(times.begin(), times.end(), from));
}

// A Poisson count is within 4 standard deviations of its mean.
bool within_4_sigma(double observed, double expected) {
  return std::fabs(observed - expected) <= 4.0 * std::sqrt(expected) + 1e-9;
}

// Numerical integral of rate_at over [from, to) with the midpoint rule.
double integrate_rate(const ArrivalProcess& p, Time from, Time to, int steps) {
  const Time h = (to - from) / steps;
  double sum = 0.0;
  for (int i = 0; i < steps; ++i) sum += p.rate_at(from + i * h + h / 2);
  return sum * to_seconds(h);
}

// A scratch directory for small CSV files, removed at the end of the test.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("deploysim_arrivals_test_" + std::to_string(::getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = (path / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
};

std::string load_error(const std::string& file) {
  try {
    load_trace(file);
  } catch (const TraceError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("world/arrivals: constant Poisson count, mean gap and CV", "[world]") {
  Rng rng(101);
  const double rate = 50.0;
  const Time horizon = 2000 * kSecond;
  auto p = make_poisson(rate);
  const std::vector<Time> times = run(*p, 0, horizon, rng);
  const double n = static_cast<double>(times.size());
  CHECK(within_4_sigma(n, rate * 2000));
  CHECK(p->expected_count(0, horizon) == Approx(100000.0));
  CHECK(p->rate_at(123 * kSecond) == 50.0);

  double sum = 0.0, sum_sq = 0.0;
  for (std::size_t i = 1; i < times.size(); ++i) {
    const double gap = to_seconds(times[i] - times[i - 1]);
    sum += gap;
    sum_sq += gap * gap;
  }
  const double m = sum / (n - 1);
  const double sd = std::sqrt(sum_sq / (n - 1) - m * m);
  CHECK(m == Approx(1.0 / rate).epsilon(4.0 / std::sqrt(n)));
  CHECK(sd / m == Approx(1.0).margin(0.02));

  CHECK(make_poisson(0.0)->next(0, rng) == kTimeNever);
  CHECK_THROWS_AS(make_poisson(-1.0), std::invalid_argument);
}

TEST_CASE("world/arrivals: piecewise rates give per-piece counts and silence at rate 0", "[world]") {
  Rng rng(202);
  auto p = make_piecewise_poisson(
      {{10 * kSecond, 20.0}, {100 * kSecond, 0.0}, {200 * kSecond, 80.0}, {300 * kSecond, 5.0}});
  const std::vector<Time> times = run(*p, 0, 500 * kSecond, rng);
  CHECK(count_in(times, 0, 10 * kSecond) == 0);  // rate 0 before the first piece
  CHECK(count_in(times, 100 * kSecond, 200 * kSecond + 1) == 0);
  CHECK(within_4_sigma(count_in(times, 10 * kSecond, 100 * kSecond), 1800));
  CHECK(within_4_sigma(count_in(times, 200 * kSecond, 300 * kSecond), 8000));
  CHECK(within_4_sigma(count_in(times, 300 * kSecond, 500 * kSecond), 1000));
  CHECK(p->expected_count(50 * kSecond, 250 * kSecond) == Approx(50 * 20.0 + 50 * 80.0));
  CHECK(p->rate_at(250 * kSecond) == 80.0);
  CHECK(p->rate_at(5 * kSecond) == 0.0);

  // Starting inside the silent piece jumps straight to the next one.
  const Time first = p->next(150 * kSecond, rng);
  CHECK(first > 200 * kSecond);
  CHECK(first < 201 * kSecond);

  CHECK_THROWS_AS(make_piecewise_poisson({{0, 1.0}, {0, 2.0}}), std::invalid_argument);
  CHECK_THROWS_AS(make_piecewise_poisson({{0, -1.0}}), std::invalid_argument);
  CHECK_THROWS_AS(make_piecewise_poisson({}), std::invalid_argument);
}

TEST_CASE("world/arrivals: diurnal counts in peak and trough hours match the integrated rate", "[world]") {
  Rng rng(303);
  const DiurnalParams params{10.0, 0.8, kDay, 14 * kHour};
  auto p = make_diurnal(params);
  const std::vector<Time> times = run(*p, 0, 2 * kDay, rng);

  // The closed-form integral agrees with a numerical one, and a whole period gives mean * period.
  CHECK(p->expected_count(0, kDay) == Approx(10.0 * 86400).epsilon(1e-12));
  CHECK(p->expected_count(3 * kHour, 17 * kHour) ==
        Approx(integrate_rate(*p, 3 * kHour, 17 * kHour, 100000)).epsilon(1e-7));
  CHECK(p->rate_at(14 * kHour) == Approx(18.0));
  CHECK(p->rate_at(2 * kHour) == Approx(2.0));

  for (const Time day : {Time{0}, kDay}) {
    const Time peak_from = day + 13 * kHour + 30 * kMinute, trough_from = day + 1 * kHour + 30 * kMinute;
    const double peak_expected = p->expected_count(peak_from, peak_from + kHour);
    const double trough_expected = p->expected_count(trough_from, trough_from + kHour);
    CHECK(peak_expected > 17.9 * 3600);
    CHECK(trough_expected < 2.1 * 3600);
    CHECK(within_4_sigma(count_in(times, peak_from, peak_from + kHour), peak_expected));
    CHECK(within_4_sigma(count_in(times, trough_from, trough_from + kHour), trough_expected));
  }
  CHECK(within_4_sigma(static_cast<double>(times.size()), p->expected_count(0, 2 * kDay)));

  CHECK_THROWS_AS(make_diurnal({10.0, 1.5, kDay, 0}), std::invalid_argument);
  CHECK_THROWS_AS(make_diurnal({10.0, 0.5, 0, 0}), std::invalid_argument);
}

TEST_CASE("world/arrivals: flash crowd ramps, holds and decays as documented", "[world]") {
  Rng rng(404);
  FlashCrowdSpike spike;
  spike.at = 600 * kSecond;
  spike.ramp = 60 * kSecond;
  spike.multiplier = 10.0;
  spike.hold = 120 * kSecond;
  spike.decay = 90 * kSecond;
  auto p = make_flash_crowd(20.0, spike);

  CHECK(p->rate_at(599 * kSecond) == Approx(20.0));
  CHECK(p->rate_at(630 * kSecond) == Approx(20.0 + 180.0 * 0.5));
  CHECK(p->rate_at(700 * kSecond) == Approx(200.0));
  CHECK(p->rate_at(870 * kSecond) == Approx(20.0 + 180.0 / std::exp(1.0)));
  // Ramp 180*60/2, hold 180*120, decay 180*90 over and above the base.
  CHECK(p->expected_count(0, kTimeNever / 2) - 20.0 * to_seconds(kTimeNever / 2) ==
        Approx(180.0 * (30 + 120 + 90)).epsilon(1e-6));
  CHECK(p->expected_count(500 * kSecond, 1500 * kSecond) ==
        Approx(integrate_rate(*p, 500 * kSecond, 1500 * kSecond, 200000)).epsilon(1e-6));

  const std::vector<Time> times = run(*p, 0, 3000 * kSecond, rng);
  const Time end_of_spike = 780 * kSecond + 5 * 90 * kSecond;
  CHECK(within_4_sigma(count_in(times, 0, 600 * kSecond), 12000));
  CHECK(within_4_sigma(count_in(times, 600 * kSecond, 660 * kSecond),
                       p->expected_count(600 * kSecond, 660 * kSecond)));
  CHECK(within_4_sigma(count_in(times, 660 * kSecond, 780 * kSecond), 200.0 * 120));
  CHECK(within_4_sigma(count_in(times, 780 * kSecond, end_of_spike),
                       p->expected_count(780 * kSecond, end_of_spike)));
  CHECK(within_4_sigma(count_in(times, end_of_spike, 3000 * kSecond),
                       p->expected_count(end_of_spike, 3000 * kSecond)));

  // Over any base process: here a diurnal one, with the spike sized from the base rate at `at`.
  auto base = make_diurnal({30.0, 0.5, kHour, 0});
  const double base_at_spike = base->rate_at(spike.at);
  auto q = make_flash_crowd(std::move(base), spike);
  CHECK(q->rate_at(700 * kSecond) - make_diurnal({30.0, 0.5, kHour, 0})->rate_at(700 * kSecond) ==
        Approx(9.0 * base_at_spike));
  const std::vector<Time> qt = run(*q, 0, 2000 * kSecond, rng);
  CHECK(within_4_sigma(count_in(qt, 600 * kSecond, end_of_spike),
                       q->expected_count(600 * kSecond, end_of_spike)));
  CHECK(within_4_sigma(static_cast<double>(qt.size()), q->expected_count(0, 2000 * kSecond)));

  spike.multiplier = 0.5;
  CHECK_THROWS_AS(make_flash_crowd(20.0, spike), std::invalid_argument);
}

TEST_CASE("world/arrivals: exact trace replay reproduces every per-minute count of the NASA trace",
          "[world]") {
  const auto trace = load_trace(kPerMinute);
  REQUIRE(trace->size() == 39692);
  CHECK(trace->total() == kPerMinuteTotal);
  CHECK(trace->end == 39692 * kMinute);

  Rng rng(505);
  auto p = make_trace_replay(trace);
  std::vector<std::int64_t> per_bin(trace->size(), 0);
  std::int64_t total = 0;
  bool ordered = true, in_range = true;
  Time t = 0;
  while (true) {
    const Time next = p->next(t, rng);
    if (next == kTimeNever) break;
    ordered = ordered && next > t;
    in_range = in_range && next >= 0 && next < trace->end;
    if (!ordered || !in_range) break;
    ++per_bin[static_cast<std::size_t>(next / kMinute)];
    ++total;
    t = next;
  }
  CHECK(ordered);
  CHECK(in_range);
  CHECK(total == 1891672);
  CHECK(per_bin[0] == 42);
  CHECK(per_bin[1] == 61);
  CHECK(per_bin[2] == 57);
  CHECK(per_bin[3] == 71);
  CHECK(*std::max_element(per_bin.begin(), per_bin.end()) == 405);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < per_bin.size(); ++i)
    mismatches += static_cast<double>(per_bin[i]) != trace->counts[i] ? 1 : 0;
  CHECK(mismatches == 0);
  CHECK(p->next(t, rng) == kTimeNever);  // stop mode: nothing after the end
  CHECK(p->expected_count(0, kTimeNever) == kPerMinuteTotal);
  CHECK(p->rate_at(30 * kSecond) == Approx(42.0 / 60.0));
  // Jul 13 (STS-70 launch), the busiest day.
  CHECK(p->expected_count(12 * kDay, 13 * kDay) == 134203.0);
}

TEST_CASE("world/arrivals: exact trace replay scaled by 2.5 rounds each bin stochastically", "[world]") {
  const auto trace = load_trace(kPerMinute);
  Rng rng(606);
  TraceReplayOptions options;
  options.scale = 2.5;
  auto p = make_trace_replay(trace, options);
  std::vector<std::int64_t> per_bin(trace->size(), 0);
  Time t = 0;
  while ((t = p->next(t, rng)) != kTimeNever) ++per_bin[static_cast<std::size_t>(t / kMinute)];
  double total = 0.0, variance = 0.0;
  std::size_t off_by_more_than_rounding = 0;
  for (std::size_t i = 0; i < per_bin.size(); ++i) {
    const double want = 2.5 * trace->counts[i];
    const double got = static_cast<double>(per_bin[i]);
    if (got != std::floor(want) && got != std::ceil(want)) ++off_by_more_than_rounding;
    total += got;
    variance += (want - std::floor(want)) * (std::ceil(want) - want);
  }
  CHECK(off_by_more_than_rounding == 0);
  CHECK(std::fabs(total - 2.5 * kPerMinuteTotal) <= 4.0 * std::sqrt(variance));
  CHECK(std::fabs(total - 2.5 * kPerMinuteTotal) / (2.5 * kPerMinuteTotal) < 1e-4);
}

TEST_CASE("world/arrivals: Poisson trace replay matches the trace's totals within 4 sigma", "[world]") {
  const auto trace = load_trace(kPerMinute);
  Rng rng(707);
  TraceReplayOptions options;
  options.mode = TraceMode::poisson;
  auto p = make_trace_replay(trace, options);
  const std::vector<Time> times = run(*p, 0, kTimeNever, rng);
  CHECK(within_4_sigma(static_cast<double>(times.size()), kPerMinuteTotal));
  CHECK(within_4_sigma(count_in(times, 12 * kDay, 13 * kDay), 134203.0));
  CHECK(within_4_sigma(count_in(times, 0, kHour), p->expected_count(0, kHour)));
  CHECK(times.back() < trace->end);
  // Bins are exact Poisson: no arrival in any of the 162 empty minutes.
  std::size_t in_empty_bins = 0;
  for (const Time t : times) in_empty_bins += trace->counts[static_cast<std::size_t>(t / kMinute)] == 0.0;
  CHECK(in_empty_bins == 0);
}

TEST_CASE("world/arrivals: trace replay offset, origin, loop and stop", "[world]") {
  Rng rng(808);
  const auto nasa = load_trace(kPerMinute);
  TraceReplayOptions options;
  options.start_offset = 12 * kDay;
  options.origin = kHour;
  auto p = make_trace_replay(nasa, options);
  const std::vector<Time> day = run(*p, 0, kHour + kDay, rng);
  CHECK(day.front() >= kHour);
  CHECK(day.size() == 134203);
  CHECK(p->rate_at(kHour - 1) == 0.0);
  CHECK(p->expected_count(0, kHour + kDay) == 134203.0);

  TempDir dir;
  const auto small = load_trace(dir.write("small.csv", "timestamp_seconds,requests\n0,5\n10,0\n20,7\n"));
  CHECK(small->end == 30 * kSecond);

  // Loop, exact: 12 arrivals per 30 s cycle, none in the empty middle bin.
  options = {};
  options.loop = true;
  auto looped = make_trace_replay(small, options);
  const std::vector<Time> lt = run(*looped, 0, 300 * kSecond, rng);
  CHECK(lt.size() == 120);
  std::size_t in_empty = 0;
  for (const Time t : lt)
    in_empty += (t % (30 * kSecond)) >= 10 * kSecond && (t % (30 * kSecond)) < 20 * kSecond;
  CHECK(in_empty == 0);
  CHECK(looped->expected_count(0, 300 * kSecond) == Approx(120.0));
  CHECK(looped->rate_at(305 * kSecond) == Approx(0.5));

  // Stop: the 12 arrivals, then kTimeNever.
  options.loop = false;
  auto stopped = make_trace_replay(small, options);
  CHECK(run(*stopped, 0, kTimeNever, rng).size() == 12);
  CHECK(stopped->expected_count(0, 1000 * kSecond) == Approx(12.0));
  CHECK(stopped->rate_at(31 * kSecond) == 0.0);

  // Offset in the middle of a bin: half of bin 0 remains on average (binomial), bin 2 exactly.
  options.loop = true;
  options.start_offset = 5 * kSecond;
  auto cut = make_trace_replay(small, options);
  const std::vector<Time> ct = run(*cut, 0, 2000 * 25 * kSecond, rng);
  double first_part = 0.0, last_part = 0.0;
  for (const Time t : ct) (t % (25 * kSecond) < 5 * kSecond ? first_part : last_part) += 1.0;
  CHECK(last_part == 2000 * 7);
  CHECK(std::fabs(first_part - 2000 * 2.5) <= 4.0 * std::sqrt(2000 * 1.25));
  CHECK(cut->expected_count(0, 25 * kSecond) == Approx(9.5));

  // Poisson mode with loop keeps going across cycles.
  options.mode = TraceMode::poisson;
  options.start_offset = 0;
  auto lp = make_trace_replay(small, options);
  const std::vector<Time> pt = run(*lp, 0, 3000 * kSecond, rng);
  CHECK(within_4_sigma(static_cast<double>(pt.size()), 1200.0));
  in_empty = 0;
  for (const Time t : pt)
    in_empty += (t % (30 * kSecond)) >= 10 * kSecond && (t % (30 * kSecond)) < 20 * kSecond;
  CHECK(in_empty == 0);

  // A clone shares the parsed trace and, from the same state and seed, gives the same arrivals.
  auto a = make_trace_replay(nasa);
  auto b = a->clone();
  Rng ra(9), rb(9);
  Time ta = 0, tb = 0;
  bool same = true;
  for (int i = 0; i < 1000; ++i) {
    ta = a->next(ta, ra);
    tb = b->next(tb, rb);
    same = same && ta == tb;
  }
  CHECK(same);

  options = {};
  options.start_offset = 30 * kSecond;
  CHECK_THROWS_AS(make_trace_replay(small, options), std::invalid_argument);
  options.start_offset = 0;
  options.scale = -1.0;
  CHECK_THROWS_AS(make_trace_replay(small, options), std::invalid_argument);
}

TEST_CASE("world/arrivals: the per-second trace parses quickly and completely", "[world]") {
  const auto start = std::chrono::steady_clock::now();
  const auto trace = load_trace(kPerSecond);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(trace->size() == 604799);
  CHECK(trace->total() == 567783.0);
  CHECK(trace->starts.front() == kSecond);
  CHECK(trace->end == 604800 * kSecond);
  CHECK(seconds < 1.0);
}

TEST_CASE("world/arrivals: trace loading errors name the file and line", "[world]") {
  using Catch::Matchers::Contains;
  TempDir dir;
  const std::string header = "timestamp_seconds,requests\n";

  const std::string missing = (dir.path / "no_such_trace.csv").string();
  CHECK_THAT(load_error(missing), Contains(missing) && Contains("cannot open"));

  const std::string bad_header = dir.write("bad_header.csv", "time,count\n0,1\n60,2\n");
  CHECK_THAT(load_error(bad_header), Contains(bad_header + ":1:") && Contains("bad header"));

  const std::string not_number = dir.write("not_number.csv", header + "0,1\n60,abc\n120,2\n");
  CHECK_THAT(load_error(not_number), Contains(not_number + ":3:") && Contains("'abc' is not a number"));

  const std::string bad_time = dir.write("bad_time.csv", header + "0,1\n6O,2\n");
  CHECK_THAT(load_error(bad_time), Contains(bad_time + ":3:") && Contains("timestamp '6O'"));

  const std::string negative = dir.write("negative.csv", header + "0,1\n60,2\n120,-3\n");
  CHECK_THAT(load_error(negative), Contains(negative + ":4:") && Contains("negative"));

  const std::string backwards = dir.write("backwards.csv", header + "0,1\n60,2\n60,3\n");
  CHECK_THAT(load_error(backwards), Contains(backwards + ":4:") && Contains("line 3"));

  const std::string fields = dir.write("fields.csv", header + "0,1,2\n60,2\n");
  CHECK_THAT(load_error(fields), Contains(fields + ":2:") && Contains("2 comma-separated fields"));

  const std::string one_row = dir.write("one_row.csv", header + "0,1\n");
  CHECK_THAT(load_error(one_row), Contains(one_row) && Contains("at least 2 data rows"));

  const std::string empty = dir.write("empty.csv", "");
  CHECK_THAT(load_error(empty), Contains(empty + ":1:"));

  // Windows line ends, blanks and a trailing empty line are fine.
  const std::string crlf = dir.write("crlf.csv", "timestamp_seconds,requests\r\n0, 1\r\n0.5,2.5\r\n\r\n");
  const auto ok = load_trace(crlf);
  CHECK(ok->size() == 2);
  CHECK(ok->end == kSecond);
  CHECK(ok->total() == 3.5);
}

// Arrival processes: Poisson, piecewise, diurnal, flash crowd and trace replay, plus the trace CSV reader.
#include "sim/world/arrivals.hpp"
#include "sim/core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <utility>

#include <boost/random/exponential_distribution.hpp>

namespace sim {

ArrivalProcess::~ArrivalProcess() = default;

namespace {

constexpr double kNsPerSecond = static_cast<double>(kSecond);
// Doubles at or beyond this are treated as "past the end of time" (kTimeNever is about 9.223e18).
constexpr double kTimeLimit = 9.2e18;

double standard_exponential(Rng& rng) {
  boost::random::exponential_distribution<double> exponential(1.0);
  return exponential(rng);
}

// t plus an exponential gap at `rate` (per second), rounded up to whole nanoseconds and at least 1 ns so
// that the result is strictly after t; kTimeNever when it would leave the representable range.
Time add_exponential_gap(Time t, double rate, Rng& rng) {
  const double gap_ns = std::ceil(standard_exponential(rng) / rate * kNsPerSecond);
  if (!(gap_ns < kTimeLimit) || static_cast<double>(t) + gap_ns >= kTimeLimit) return kTimeNever;
  return t + std::max<Time>(1, static_cast<Time>(gap_ns));
}

// b - a in seconds without signed overflow when one of them is kTimeNever or far from zero.
double seconds_between(Time a, Time b) {
  Time diff = 0;
  if (!__builtin_sub_overflow(b, a, &diff)) return to_seconds(diff);
  return (static_cast<double>(b) - static_cast<double>(a)) / kNsPerSecond;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

bool is_rate(double r) { return std::isfinite(r) && r >= 0.0; }

// ---------------------------------------------------------------------------------------------------------

class PoissonProcess final : public ArrivalProcess {
 public:
  explicit PoissonProcess(double rate) : rate_(rate) {}

  Time next(Time after, Rng& rng) override {
    return rate_ > 0.0 ? add_exponential_gap(after, rate_, rng) : kTimeNever;
  }
  double rate_at(Time) const override { return rate_; }
  double expected_count(Time from, Time to) const override {
    return to > from ? rate_ * seconds_between(from, to) : 0.0;
  }
  std::unique_ptr<ArrivalProcess> clone() const override { return std::make_unique<PoissonProcess>(*this); }

 private:
  double rate_;
};

// ---------------------------------------------------------------------------------------------------------

class PiecewisePoisson final : public ArrivalProcess {
 public:
  explicit PiecewisePoisson(std::vector<RatePiece> pieces) : pieces_(std::move(pieces)) {}

  Time next(Time after, Rng& rng) override {
    std::size_t i = piece_at(after);
    Time t = after;
    if (i == kBefore) {
      i = 0;
      t = pieces_[0].start;
    }
    while (true) {
      const Time end = piece_end(i);
      if (pieces_[i].rate_per_second > 0.0) {
        const Time candidate = add_exponential_gap(t, pieces_[i].rate_per_second, rng);
        if (candidate < end) return candidate;
      }
      if (end == kTimeNever) return kTimeNever;
      // No arrival left in this piece: the exponential is memoryless, so restarting at the boundary with
      // the next piece's rate is exact.
      t = end;
      ++i;
    }
  }

  double rate_at(Time t) const override {
    const std::size_t i = piece_at(t);
    return i == kBefore ? 0.0 : pieces_[i].rate_per_second;
  }

  double expected_count(Time from, Time to) const override {
    double total = 0.0;
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      const Time lo = std::max(from, pieces_[i].start);
      const Time hi = std::min(to, piece_end(i));
      if (hi > lo) total += pieces_[i].rate_per_second * seconds_between(lo, hi);
    }
    return total;
  }

  std::unique_ptr<ArrivalProcess> clone() const override { return std::make_unique<PiecewisePoisson>(*this); }

 private:
  static constexpr std::size_t kBefore = SIZE_MAX;

  std::size_t piece_at(Time t) const {
    const auto it = std::upper_bound(pieces_.begin(), pieces_.end(), t,
                                     [](Time value, const RatePiece& p) { return value < p.start; });
    return it == pieces_.begin() ? kBefore : static_cast<std::size_t>(it - pieces_.begin()) - 1;
  }
  Time piece_end(std::size_t i) const { return i + 1 < pieces_.size() ? pieces_[i + 1].start : kTimeNever; }

  std::vector<RatePiece> pieces_;
};

// ---------------------------------------------------------------------------------------------------------

class DiurnalProcess final : public ArrivalProcess {
 public:
  explicit DiurnalProcess(const DiurnalParams& p) : p_(p), bound_(p.mean_rate * (1.0 + p.amplitude)) {}

  Time next(Time after, Rng& rng) override {
    if (bound_ <= 0.0) return kTimeNever;
    Time t = after;
    while (true) {
      t = add_exponential_gap(t, bound_, rng);
      if (t == kTimeNever) return kTimeNever;
      if (uniform01(rng) * bound_ < rate_at(t)) return t;
    }
  }

  double rate_at(Time t) const override {
    return p_.mean_rate * (1.0 + p_.amplitude * std::cos(2.0 * std::numbers::pi * phase(t)));
  }

  double expected_count(Time from, Time to) const override {
    if (to <= from) return 0.0;
    // Integral of the cosine term: period / (2 pi) * [sin(2 pi phase)] between the ends.
    const double swing =
        to_seconds(p_.period) / (2.0 * std::numbers::pi) *
        (std::sin(2.0 * std::numbers::pi * phase(to)) - std::sin(2.0 * std::numbers::pi * phase(from)));
    return p_.mean_rate * (seconds_between(from, to) + p_.amplitude * swing);
  }

  std::unique_ptr<ArrivalProcess> clone() const override { return std::make_unique<DiurnalProcess>(*this); }

 private:
  // Fraction of the period elapsed since the last peak, in [0, 1). Reducing in integers first keeps full
  // precision at large times and cannot overflow.
  double phase(Time t) const {
    Time r = (t % p_.period - p_.peak_at % p_.period) % p_.period;
    if (r < 0) r += p_.period;
    return static_cast<double>(r) / static_cast<double>(p_.period);
  }

  DiurnalParams p_;
  double bound_;
};

// ---------------------------------------------------------------------------------------------------------

class FlashCrowd final : public ArrivalProcess {
 public:
  FlashCrowd(std::unique_ptr<ArrivalProcess> base, const FlashCrowdSpike& spike, double peak)
      : base_(std::move(base)),
        spike_(spike),
        peak_(peak),
        decay_start_(spike.at + spike.ramp + spike.hold) {}

  FlashCrowd(const FlashCrowd& other)
      : ArrivalProcess(other),
        base_(other.base_->clone()),
        spike_(other.spike_),
        peak_(other.peak_),
        decay_start_(other.decay_start_),
        pending_base_(other.pending_base_),
        last_after_(other.last_after_) {}

  Time next(Time after, Rng& rng) override {
    // The base may carry state (trace replay), so its next arrival is kept until it has been delivered
    // rather than redrawn; the spike is Poisson and can be redrawn from any point.
    if (pending_base_ <= after || after < last_after_) pending_base_ = base_->next(after, rng);
    last_after_ = after;
    const Time spike = next_spike(after, rng);
    return spike < pending_base_ ? spike : pending_base_;
  }

  double rate_at(Time t) const override { return base_->rate_at(t) + peak_ * shape(t); }

  double expected_count(Time from, Time to) const override {
    if (to <= from) return 0.0;
    return base_->expected_count(from, to) + peak_ * (shape_integral(to) - shape_integral(from));
  }

  std::unique_ptr<ArrivalProcess> clone() const override { return std::make_unique<FlashCrowd>(*this); }

 private:
  static constexpr Time kNone = INT64_MIN;
  // Below this many expected spike arrivals in the rest of the decay, the spike is over.
  static constexpr double kNegligibleCount = 1e-9;

  double shape(Time t) const {
    if (t < spike_.at) return 0.0;
    if (t < spike_.at + spike_.ramp)
      return static_cast<double>(t - spike_.at) / static_cast<double>(spike_.ramp);
    if (t < decay_start_) return 1.0;
    if (spike_.decay == 0) return 0.0;
    return std::exp(-seconds_between(decay_start_, t) / to_seconds(spike_.decay));
  }

  // Integral of shape from -infinity to t, in seconds.
  double shape_integral(Time t) const {
    if (t <= spike_.at) return 0.0;
    double sum = 0.0;
    if (spike_.ramp > 0) {
      const double x = seconds_between(spike_.at, std::min(t, spike_.at + spike_.ramp));
      sum += x * x / (2.0 * to_seconds(spike_.ramp));
    }
    if (t > spike_.at + spike_.ramp)
      sum += seconds_between(spike_.at + spike_.ramp, std::min(t, decay_start_));
    if (t > decay_start_ && spike_.decay > 0) {
      const double tau = to_seconds(spike_.decay);
      sum += tau * -std::expm1(-seconds_between(decay_start_, t) / tau);
    }
    return sum;
  }

  Time next_spike(Time after, Rng& rng) const {
    if (peak_ <= 0.0) return kTimeNever;
    Time t = std::max(after, spike_.at);
    while (true) {
      // Until the decay starts the spike rate never exceeds peak_; from then on it only falls, so the rate
      // at the current candidate bounds everything after it.
      double bound = peak_;
      if (t >= decay_start_) {
        if (spike_.decay == 0) return kTimeNever;
        bound = peak_ * shape(t);
        if (bound * to_seconds(spike_.decay) < kNegligibleCount) return kTimeNever;
      }
      t = add_exponential_gap(t, bound, rng);
      if (t == kTimeNever) return kTimeNever;
      if (uniform01(rng) * bound < peak_ * shape(t)) return t;
    }
  }

  std::unique_ptr<ArrivalProcess> base_;
  FlashCrowdSpike spike_;
  double peak_;  // (multiplier - 1) * reference rate
  Time decay_start_;
  Time pending_base_ = kNone;
  Time last_after_ = kNone;
};

// ---------------------------------------------------------------------------------------------------------

class TraceReplay final : public ArrivalProcess {
 public:
  TraceReplay(std::shared_ptr<const Trace> trace, const TraceReplayOptions& options)
      : trace_(std::move(trace)), options_(options) {
    const Trace& tr = *trace_;
    require(options_.start_offset < tr.end,
            "trace replay of " + tr.source + ": start offset " + format_duration(options_.start_offset) +
                " is not before the end of the trace (" + format_duration(tr.end) + ")");
    const double max_count = *std::max_element(tr.counts.begin(), tr.counts.end());
    require(max_count * options_.scale < 1e15,
            "trace replay of " + tr.source + ": scale " + std::to_string(options_.scale) + " is too large");
    first_bin_ = bin_at(options_.start_offset);
    period_ = tr.end - options_.start_offset;
    cum_offset_ = cum_at(options_.start_offset);
    cycle_count_ = tr.total() - cum_offset_;
  }

  Time next(Time after, Rng& rng) override {
    if (options_.scale * cycle_count_ <= 0.0 || after == kTimeNever) return kTimeNever;
    return options_.mode == TraceMode::exact ? next_exact(after, rng) : next_poisson(after, rng);
  }

  double rate_at(Time t) const override {
    if (t < options_.origin) return 0.0;
    const Position p = locate(t);
    const Trace& tr = *trace_;
    if (p.past_end || p.tau < tr.starts.front()) return 0.0;
    const std::size_t i = bin_at(p.tau);
    return options_.scale * tr.counts[i] / to_seconds(tr.width(i));
  }

  double expected_count(Time from, Time to) const override {
    return to > from ? cumulative_sim(to) - cumulative_sim(from) : 0.0;
  }

  std::unique_ptr<ArrivalProcess> clone() const override { return std::make_unique<TraceReplay>(*this); }

 private:
  struct Position {
    std::int64_t cycle = 0;
    Time tau = 0;  // trace time
    bool past_end = false;
  };

  // Bin holding trace time tau, taking bin 0 for times before the first bin.
  std::size_t bin_at(Time tau) const {
    const auto& s = trace_->starts;
    const auto it = std::upper_bound(s.begin(), s.end(), tau);
    return it == s.begin() ? 0 : static_cast<std::size_t>(it - s.begin()) - 1;
  }

  // Unscaled expected count of the trace before trace time tau.
  double cum_at(Time tau) const {
    const Trace& tr = *trace_;
    if (tau <= tr.starts.front()) return 0.0;
    if (tau >= tr.end) return tr.total();
    const std::size_t i = bin_at(tau);
    return tr.cumulative[i] +
           tr.counts[i] * static_cast<double>(tau - tr.starts[i]) / static_cast<double>(tr.width(i));
  }

  // Cycle and trace time of simulated time t >= origin.
  Position locate(Time t) const {
    Time d = 0;
    if (__builtin_sub_overflow(t, options_.origin, &d)) d = kTimeNever;
    Position p;
    if (options_.loop) {
      p.cycle = d / period_;
      p.tau = options_.start_offset + d % period_;
    } else if (d >= period_) {
      p.past_end = true;
    } else {
      p.tau = options_.start_offset + d;
    }
    return p;
  }

  // Simulated time of trace time tau in the given cycle; kTimeNever if out of range.
  Time to_sim(std::int64_t cycle, Time tau) const {
    Time shift = 0, t = 0;
    if (__builtin_mul_overflow(cycle, period_, &shift) ||
        __builtin_add_overflow(shift, options_.origin, &t) ||
        __builtin_add_overflow(t, tau - options_.start_offset, &t))
      return kTimeNever;
    return t;
  }

  // Scaled expected count in [origin, t).
  double cumulative_sim(Time t) const {
    if (t <= options_.origin) return 0.0;
    const Position p = locate(t);
    if (p.past_end) return options_.scale * cycle_count_;
    return options_.scale * (static_cast<double>(p.cycle) * cycle_count_ + (cum_at(p.tau) - cum_offset_));
  }

  // Poisson mode: invert the cumulative rate. Equivalent to exponential gaps restarted at every bin edge,
  // but one draw per arrival however many empty bins lie in between.
  Time next_poisson(Time after, Rng& rng) const {
    const Trace& tr = *trace_;
    const Position p = locate(std::max(after, options_.origin));
    if (p.past_end) return kTimeNever;
    std::int64_t cycle = p.cycle;
    // Unscaled expected count from the cycle's start to the next arrival.
    double y = cum_at(p.tau) - cum_offset_ + standard_exponential(rng) / options_.scale;
    if (y >= cycle_count_) {
      if (!options_.loop) return kTimeNever;
      const double whole = std::floor(y / cycle_count_);
      if (whole > 1e15) return kTimeNever;
      y = std::clamp(y - whole * cycle_count_, 0.0, cycle_count_);
      cycle += static_cast<std::int64_t>(whole);
    }
    const double target = cum_offset_ + y;
    const auto it = std::upper_bound(tr.cumulative.begin(), tr.cumulative.end(), target);
    // The last bin with cumulative <= target; it has a positive count unless target is at the very end.
    std::size_t i = static_cast<std::size_t>(it - tr.cumulative.begin()) - 1;
    if (i >= tr.size()) i = tr.size() - 1;
    const double fraction =
        tr.counts[i] > 0.0 ? std::min(1.0, (target - tr.cumulative[i]) / tr.counts[i]) : 1.0;
    Time tau = tr.starts[i] + static_cast<Time>(std::ceil(fraction * static_cast<double>(tr.width(i))));
    tau = std::clamp(tau, options_.start_offset, tr.end - 1);
    return std::max(to_sim(cycle, tau), after + 1);
  }

  Time next_exact(Time after, Rng& rng) {
    // Continue the stream when called with the last arrival (or anything up to the current bin's end);
    // otherwise start again at the bin holding `after`, since bins are independent.
    if (!started_ || after < last_ || (after > last_ && after >= bin_end_)) restart(after);
    while (true) {
      const Time candidate = next_candidate(rng);
      if (candidate == kTimeNever) {
        last_ = after;
        return kTimeNever;
      }
      if (candidate < after) continue;
      // Two arrivals can share a nanosecond; moving the later one on keeps every arrival and the order.
      last_ = std::max(candidate, after + 1);
      return last_;
    }
  }

  void restart(Time after) {
    started_ = true;
    last_ = after;
    bin_drawn_ = false;
    const Position p = locate(std::max(after, options_.origin));
    if (p.past_end) {
      bin_ = trace_->size();
      return;
    }
    cycle_ = p.cycle;
    bin_ = bin_at(p.tau);
  }

  // The stream's next arrival, in increasing order, or kTimeNever once the trace is over.
  Time next_candidate(Rng& rng) {
    const Trace& tr = *trace_;
    while (true) {
      if (!bin_drawn_) {
        if (bin_ >= tr.size()) {
          if (!options_.loop) {
            bin_end_ = kTimeNever;
            return kTimeNever;
          }
          ++cycle_;
          bin_ = first_bin_;
        }
        bin_end_ = to_sim(cycle_, tr.starts[bin_] + tr.width(bin_));
        if (bin_end_ == kTimeNever) return kTimeNever;
        // Stochastic rounding keeps the expected count at count * scale.
        const double x = tr.counts[bin_] * options_.scale;
        const double whole = std::floor(x);
        remaining_ = static_cast<std::uint64_t>(whole);
        if (x > whole && uniform01(rng) < x - whole) ++remaining_;
        position_ = 0.0;
        bin_drawn_ = true;
      }
      if (remaining_ == 0) {
        ++bin_;
        bin_drawn_ = false;
        continue;
      }
      // The smallest of k uniforms on (position, 1) is position + (1 - position) * Beta(1, k), and
      // Beta(1, k) = 1 - exp(-E / k) for a standard exponential E: sorted positions without storing them.
      position_ +=
          (1.0 - position_) * -std::expm1(-standard_exponential(rng) / static_cast<double>(remaining_));
      --remaining_;
      const Time width = tr.width(bin_);
      const Time in_bin = std::min(static_cast<Time>(position_ * static_cast<double>(width)), width - 1);
      const Time tau = tr.starts[bin_] + in_bin;
      if (tau < options_.start_offset) continue;  // the part of a cut bin before the replay starts
      return to_sim(cycle_, tau);
    }
  }

  std::shared_ptr<const Trace> trace_;
  TraceReplayOptions options_;
  std::size_t first_bin_ = 0;
  Time period_ = 0;           // length of one replay cycle: end - start_offset
  double cum_offset_ = 0.0;   // unscaled count before start_offset
  double cycle_count_ = 0.0;  // unscaled count in [start_offset, end)

  // Exact-mode stream: the current cycle and bin, the arrivals it still owes and the last position used.
  bool started_ = false;
  std::int64_t cycle_ = 0;
  std::size_t bin_ = 0;
  bool bin_drawn_ = false;
  std::uint64_t remaining_ = 0;
  double position_ = 0.0;
  Time bin_end_ = kTimeNever;
  Time last_ = 0;
};

// ---------------------------------------------------------------------------------------------------------
// Trace CSV reader.

constexpr std::string_view kTraceHeader = "timestamp_seconds,requests";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void trace_fail(const std::string& source, std::size_t line, const std::string& why) {
  throw TraceError(source + ":" + std::to_string(line) + ": " + why);
}

bool parse_number(std::string_view text, double& value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

std::unique_ptr<ArrivalProcess> make_poisson(double rate_per_second) {
  require(is_rate(rate_per_second),
          "Poisson arrivals: rate must be finite and >= 0, got " + std::to_string(rate_per_second));
  return std::make_unique<PoissonProcess>(rate_per_second);
}

std::unique_ptr<ArrivalProcess> make_piecewise_poisson(std::vector<RatePiece> pieces) {
  require(!pieces.empty(), "piecewise arrivals: at least one piece is needed");
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    require(is_rate(pieces[i].rate_per_second), "piecewise arrivals: piece " + std::to_string(i) +
                                                    " has rate " + std::to_string(pieces[i].rate_per_second) +
                                                    "; rates must be finite and >= 0");
    require(i == 0 || pieces[i].start > pieces[i - 1].start,
            "piecewise arrivals: piece " + std::to_string(i) + " starts at " +
                format_duration(pieces[i].start) + ", not after the previous piece");
  }
  return std::make_unique<PiecewisePoisson>(std::move(pieces));
}

std::unique_ptr<ArrivalProcess> make_diurnal(const DiurnalParams& params) {
  require(is_rate(params.mean_rate),
          "diurnal arrivals: mean rate must be finite and >= 0, got " + std::to_string(params.mean_rate));
  require(params.amplitude >= 0.0 && params.amplitude <= 1.0,
          "diurnal arrivals: amplitude must be in [0, 1], got " + std::to_string(params.amplitude));
  require(params.period > 0, "diurnal arrivals: period must be positive");
  return std::make_unique<DiurnalProcess>(params);
}

std::unique_ptr<ArrivalProcess> make_flash_crowd(std::unique_ptr<ArrivalProcess> base,
                                                 const FlashCrowdSpike& spike) {
  require(base != nullptr, "flash crowd: base process is null");
  require(std::isfinite(spike.multiplier) && spike.multiplier >= 1.0,
          "flash crowd: multiplier must be finite and >= 1, got " + std::to_string(spike.multiplier));
  require(spike.ramp >= 0 && spike.hold >= 0 && spike.decay >= 0,
          "flash crowd: ramp, hold and decay must be >= 0");
  Time decay_start = 0;
  require(!__builtin_add_overflow(spike.at, spike.ramp, &decay_start) &&
              !__builtin_add_overflow(decay_start, spike.hold, &decay_start),
          "flash crowd: at + ramp + hold is out of range");
  const double reference = spike.reference_rate.value_or(base->rate_at(spike.at));
  require(is_rate(reference),
          "flash crowd: reference rate must be finite and >= 0, got " + std::to_string(reference));
  const double peak = (spike.multiplier - 1.0) * reference;
  return std::make_unique<FlashCrowd>(std::move(base), spike, peak);
}

std::unique_ptr<ArrivalProcess> make_flash_crowd(double base_rate, const FlashCrowdSpike& spike) {
  return make_flash_crowd(make_poisson(base_rate), spike);
}

std::shared_ptr<const Trace> parse_trace(std::string_view text, const std::string& source) {
  auto trace = std::make_shared<Trace>();
  trace->source = source;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  const std::size_t line_estimate = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  trace->starts.reserve(line_estimate);
  trace->counts.reserve(line_estimate);

  std::size_t pos = 0;
  std::size_t line_number = 0;
  std::string_view previous_text;
  std::size_t previous_line = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_number;
    if (line_number == 1) {
      if (line != kTraceHeader)
        trace_fail(source, 1, "bad header " + quoted(line) + "; expected " + quoted(kTraceHeader));
      continue;
    }
    if (line.empty()) continue;
    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos)
      trace_fail(source, line_number,
                 "expected 2 comma-separated fields (timestamp_seconds,requests), got " + quoted(line));
    const std::string_view time_text = trim(line.substr(0, comma));
    const std::string_view count_text = trim(line.substr(comma + 1));
    double seconds = 0.0;
    double count = 0.0;
    if (!parse_number(time_text, seconds))
      trace_fail(source, line_number, "timestamp " + quoted(time_text) + " is not a number");
    if (!parse_number(count_text, count))
      trace_fail(source, line_number, "request count " + quoted(count_text) + " is not a number");
    if (count < 0.0) trace_fail(source, line_number, "request count " + quoted(count_text) + " is negative");
    Time start = 0;
    try {
      start = from_seconds(seconds);
    } catch (const UnitError&) {
      trace_fail(source, line_number, "timestamp " + quoted(time_text) + " is out of range");
    }
    if (!trace->starts.empty() && start <= trace->starts.back())
      trace_fail(source, line_number,
                 "timestamp " + quoted(time_text) + " is not after the previous timestamp " +
                     quoted(previous_text) + " (line " + std::to_string(previous_line) +
                     "); timestamps must increase");
    trace->starts.push_back(start);
    trace->counts.push_back(count);
    previous_text = time_text;
    previous_line = line_number;
  }
  if (line_number == 0) trace_fail(source, 1, "empty file; expected the header " + quoted(kTraceHeader));
  const std::size_t n = trace->starts.size();
  if (n < 2)
    throw TraceError(source +
                     ": needs at least 2 data rows (the bin width is the gap between timestamps), found " +
                     std::to_string(n));
  const Time last_width = trace->starts[n - 1] - trace->starts[n - 2];
  if (__builtin_add_overflow(trace->starts[n - 1], last_width, &trace->end))
    throw TraceError(source + ": the last bin ends out of range");
  trace->cumulative.resize(n + 1);
  trace->cumulative[0] = 0.0;
  for (std::size_t i = 0; i < n; ++i) trace->cumulative[i + 1] = trace->cumulative[i] + trace->counts[i];
  return trace;
}

std::shared_ptr<const Trace> load_trace(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw TraceError(path + ": cannot open trace file (" + std::strerror(errno) + ")");
  std::string text;
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) throw TraceError(path + ": cannot read trace file (" + std::strerror(error) + ")");
  return parse_trace(text, path);
}

std::unique_ptr<ArrivalProcess> make_trace_replay(std::shared_ptr<const Trace> trace,
                                                  const TraceReplayOptions& options) {
  require(trace != nullptr, "trace replay: trace is null");
  require(std::isfinite(options.scale) && options.scale >= 0.0, "trace replay of " + trace->source +
                                                                    ": scale must be finite and >= 0, got " +
                                                                    std::to_string(options.scale));
  return std::make_unique<TraceReplay>(std::move(trace), options);
}

std::unique_ptr<ArrivalProcess> make_trace_replay(const std::string& path,
                                                  const TraceReplayOptions& options) {
  return make_trace_replay(load_trace(path), options);
}

}  // namespace sim

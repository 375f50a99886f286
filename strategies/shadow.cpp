// `shadow`: champion/challenger by mirroring (Istio mirrorPercentage, Flagger's mirror). Challengers answer
// copies of live requests that are never returned; once a challenger's offline comparison with the champion
// has passed for long enough, a nested strategy swaps it in.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

// Tokens of the shadow phase; the nested strategy's own tokens are small and pass through untouched.
constexpr std::uint64_t kTick = std::uint64_t{1} << 62;
constexpr std::uint64_t kDeadline = kTick + 1;

/// The strategies that can swap a winning challenger in, by the name a scenario gives.
std::vector<StrategyInfo> promotion_strategies() {
  return {rolling_strategy_info(), blue_green_strategy_info(), recreate_strategy_info(),
          canary_strategy_info()};
}

/// Durations in notes, to the second ("5m48s" reads better than "348600ms").
Time whole_seconds(Time t) { return t / kSecond * kSecond; }

struct Comparison {
  enum class Verdict { pass, fail, no_data } verdict = Verdict::pass;
  std::string reason;
};

class Shadow final : public Strategy {
 public:
  explicit Shadow(const ParamValues& p)
      : mirror_percent_(p.percent("mirror_percent")),
        challenger_replicas_(p.count_or_percent("challenger_replicas")),
        interval_(p.duration("interval")),
        min_requests_(static_cast<std::uint64_t>(p.integer("min_requests"))),
        max_error_increase_(p.percent("max_error_rate_increase") / 100),
        max_p99_ratio_(p.number("max_p99_ratio")),
        min_quality_ratio_(p.number("min_quality_ratio")),
        min_labels_(static_cast<std::uint64_t>(p.integer("min_labels"))),
        promote_after_(p.duration("promote_after")),
        threshold_(static_cast<int>(p.integer("threshold"))),
        max_duration_(p.duration("max_duration")),
        promotion_(p.alternative("promotion")) {
    for (const ParamList::Item& item : p.list("challengers").items)
      challenger_names_.push_back(std::get<std::string>(item.value));
  }

  void start(Control& c) override {
    if (challenger_names_.empty()) challenger_names_.push_back(c.version_name(c.candidate()));
    target_ = std::max(1, challenger_replicas_.resolve(c.replicas(), true));
    for (const std::string& name : challenger_names_) {
      const VersionId v = c.version_id(name);
      if (v == c.stable() || std::any_of(challengers_.begin(), challengers_.end(),
                                         [&](const Challenger& x) { return x.version == v; }))
        continue;
      Challenger ch;
      ch.version = v;
      ch.name = name;
      challengers_.push_back(std::move(ch));
      c.scale(v, target_);
    }
    c.set_candidate_weight(0);
    c.note("shadow: scale challenger(s) to " + std::to_string(target_) + "; mirror " +
           format_param(mirror_percent_) + "% once ready; promote after " + format_duration(promote_after_) +
           " of passing comparisons");
    c.timer(interval_, kTick);
    if (max_duration_ > 0) c.timer(max_duration_, kDeadline);
    on_change(c);
  }

  void on_change(Control& c) override {
    if (nested_) return nested_->on_change(c);
    for (Challenger& ch : challengers_) {
      if (ch.state != State::starting || c.ready(ch.version) < target_) continue;
      ch.state = State::mirrored;
      c.set_mirror(ch.version, mirror_percent_);
      ch.shadow.emplace(c.metrics().cursor(ch.version, c.now(), Traffic::shadow));
      ch.champion.emplace(c.metrics().cursor(c.stable(), c.now()));
      c.note("shadow: " + ch.name + " ready, mirroring " + format_param(mirror_percent_) +
             "% of live traffic");
    }
    if (aborted_ && std::all_of(challengers_.begin(), challengers_.end(),
                                [&](const Challenger& ch) { return c.existing(ch.version) == 0; })) {
      aborted_ = false;
      c.rolled_back("challengers scaled to zero; the champion kept all traffic");
    }
  }

  void on_timer(Control& c, std::uint64_t token) override {
    if (token < kTick) {
      if (nested_) nested_->on_timer(c, token);
      return;
    }
    if (nested_ || done_) return;
    if (token == kDeadline) {
      finish_without_winner(c, "no challenger passed within max_duration " + format_duration(max_duration_));
      return;
    }
    tick(c);
    if (!nested_ && !done_) c.timer(interval_, kTick);
  }

  void on_promote(Control& c) override {
    if (nested_) nested_->on_promote(c);
  }

 private:
  enum class State { starting, mirrored, rejected };
  struct Challenger {
    VersionId version = 0;
    std::string name;
    State state = State::starting;
    int failures = 0;
    Time passing_since = kTimeNever;
    std::optional<WindowCursor> shadow;
    std::optional<WindowCursor> champion;
  };

  /// The challenger's mirrored answers against the champion's live ones over the same window.
  Comparison compare(const Control& c, const WindowStats& ch, const WindowStats& champ) const {
    Comparison out;
    auto no_data = [&](const std::string& why) {
      out.verdict = Comparison::Verdict::no_data;
      out.reason = "no data: " + why;
      return out;
    };
    if (ch.requests < min_requests_)
      return no_data(std::to_string(ch.requests) + " mirrored requests < min_requests " +
                     std::to_string(min_requests_));
    if (champ.requests < min_requests_)
      return no_data(std::to_string(champ.requests) + " champion requests < min_requests " +
                     std::to_string(min_requests_));
    const double e_ch = ch.value(Metric::error_rate), e_champ = champ.value(Metric::error_rate);
    const double p_ch = ch.value(Metric::latency_p99), p_champ = champ.value(Metric::latency_p99);
    std::string detail = "errors " + format_metric_value(Metric::error_rate, e_ch) + " vs " +
                         format_metric_value(Metric::error_rate, e_champ) + ", p99 " +
                         format_metric_value(Metric::latency_p99, p_ch) + " vs " +
                         format_metric_value(Metric::latency_p99, p_champ);
    std::vector<std::string> failed;
    if (e_ch - e_champ > max_error_increase_ + 1e-12) failed.push_back("error rate");
    if (p_ch > max_p99_ratio_ * p_champ) failed.push_back("p99 latency");
    bool quality_pending = false;
    if (c.has_quality() && min_quality_ratio_ > 0) {
      if (ch.labels < min_labels_ || champ.labels < min_labels_) {
        quality_pending = true;
        detail += ", quality pending (" + std::to_string(std::min(ch.labels, champ.labels)) + " labels < " +
                  std::to_string(min_labels_) + ")";
      } else {
        const double q_ch = ch.value(Metric::conversion_rate), q_champ = champ.value(Metric::conversion_rate);
        detail += ", quality " + format_metric_value(Metric::conversion_rate, q_ch) + " vs " +
                  format_metric_value(Metric::conversion_rate, q_champ);
        if (q_ch < min_quality_ratio_ * q_champ) failed.push_back("quality");
      }
    }
    if (!failed.empty()) {
      out.verdict = Comparison::Verdict::fail;
      std::string what;
      for (const std::string& f : failed) what += (what.empty() ? "" : ", ") + f;
      out.reason = "worse " + what + " (" + detail + ")";
    } else if (quality_pending) {
      out.verdict = Comparison::Verdict::no_data;
      out.reason = detail;
    } else {
      out.reason = detail;
    }
    return out;
  }

  void tick(Control& c) {
    const Challenger* winner = nullptr;
    for (Challenger& ch : challengers_) {
      if (ch.state != State::mirrored) continue;
      const WindowStats& s = c.metrics().advance(*ch.shadow, c.now());
      const WindowStats& champ = c.metrics().advance(*ch.champion, c.now());
      const Comparison r = compare(c, s, champ);
      std::string head = "shadow " + ch.name + ": ";
      switch (r.verdict) {
        case Comparison::Verdict::pass:
          if (ch.passing_since == kTimeNever) ch.passing_since = s.start;
          c.note(head + "pass for " + format_duration(whole_seconds(c.now() - ch.passing_since)) + " (" +
                 r.reason + ")");
          if (!winner && c.now() - ch.passing_since >= promote_after_) winner = &ch;
          break;
        case Comparison::Verdict::no_data:
          ch.passing_since = kTimeNever;
          c.note(head + r.reason);
          break;
        case Comparison::Verdict::fail:
          ch.passing_since = kTimeNever;
          ++ch.failures;
          c.note(head + "failed check " + std::to_string(ch.failures) + "/" + std::to_string(threshold_) +
                 ": " + r.reason);
          if (ch.failures >= threshold_) reject(c, ch);
          break;
      }
    }
    if (winner) return promote(c, *winner);
    if (std::all_of(challengers_.begin(), challengers_.end(),
                    [](const Challenger& ch) { return ch.state == State::rejected; }))
      finish_without_winner(c, "every challenger failed its shadow comparison");
  }

  void reject(Control& c, Challenger& ch) {
    ch.state = State::rejected;
    c.set_mirror(ch.version, 0);
    c.scale(ch.version, 0);
    c.note("shadow: " + ch.name + " rejected after " + std::to_string(ch.failures) + " failed checks");
  }

  void finish_without_winner(Control& c, const std::string& why) {
    done_ = true;
    aborted_ = true;
    c.clear_mirror();
    for (Challenger& ch : challengers_) {
      ch.state = State::rejected;
      c.scale(ch.version, 0);
    }
    c.abort(why);
    on_change(c);
  }

  void promote(Control& c, const Challenger& winner) {
    c.clear_mirror();
    for (const Challenger& ch : challengers_)
      if (ch.version != winner.version) c.scale(ch.version, 0);
    c.set_candidate(winner.version);
    // Back to the world's default routing (a Service over Ready replicas): rolling and recreate rely on it,
    // the others set their own weights. The winner's warm replicas are the nested rollout's new ReplicaSet.
    c.use_replica_proportional();
    c.note("shadow: " + winner.name + " passed for " +
           format_duration(whole_seconds(c.now() - winner.passing_since)) + "; promote with " +
           promotion_.alternative);
    for (const StrategyInfo& info : promotion_strategies()) {
      if (info.name != promotion_.alternative) continue;
      nested_ = info.create(*std::get<std::shared_ptr<const ParamValues>>(promotion_.value));
    }
    nested_->start(c);
  }

  double mirror_percent_;
  CountOrPercent challenger_replicas_;
  Time interval_;
  std::uint64_t min_requests_;
  double max_error_increase_;
  double max_p99_ratio_;
  double min_quality_ratio_;
  std::uint64_t min_labels_;
  Time promote_after_;
  int threshold_;
  Time max_duration_;
  ParamList::Item promotion_;
  std::vector<std::string> challenger_names_;
  std::vector<Challenger> challengers_;
  int target_ = 0;
  bool done_ = false;
  bool aborted_ = false;
  std::unique_ptr<Strategy> nested_;
};

}  // namespace

StrategyInfo shadow_strategy_info() {
  StrategyInfo info;
  info.name = "shadow";
  info.description =
      "champion/challenger by mirroring: challengers answer copies of live traffic that users never see; a "
      "challenger whose offline comparison passes long enough is swapped in by a nested strategy";
  ParamSpec challengers = param_spec("challengers", ParamType::list, "[]",
                                     "models that receive mirrored traffic; empty: the release candidate");
  challengers.fields = {param_spec("model", ParamType::model, "", "a model name")};
  ParamSpec interval = param_spec("interval", ParamType::duration, "1m", "time between comparisons");
  interval.min = 1e-3;
  ParamSpec min_requests = param_spec("min_requests", ParamType::integer, "100",
                                      "fewer requests on either side in an interval: no data");
  min_requests.min = 1;
  ParamSpec p99 = param_spec("max_p99_ratio", ParamType::number, "1.2",
                             "fail when the challenger's p99 exceeds the champion's times this");
  p99.min = 0;
  ParamSpec quality = param_spec(
      "min_quality_ratio", ParamType::number, "0.98",
      "fail when the challenger's accuracy on delivered labels is below the champion's times this; "
      "0 skips the quality check");
  quality.min = 0;
  ParamSpec min_labels = param_spec("min_labels", ParamType::integer, "100",
                                    "fewer delivered labels on either side: quality pending (no data)");
  min_labels.min = 1;
  ParamSpec threshold =
      param_spec("threshold", ParamType::integer, "5", "failed comparisons before a challenger is rejected");
  threshold.min = 1;
  ParamSpec promotion = param_spec("promotion", ParamType::one_of, "rolling",
                                   "the strategy that swaps the winning challenger in, with its parameters");
  for (const StrategyInfo& s : promotion_strategies()) {
    ParamSpec alt = param_spec(s.name, ParamType::record, "{}", s.description);
    alt.fields = s.params;
    promotion.fields.push_back(std::move(alt));
  }
  info.params = {
      challengers,
      param_spec("mirror_percent", ParamType::percent, "100",
                 "share of live requests copied to each challenger (Istio mirrorPercentage)"),
      param_spec("challenger_replicas", ParamType::count_or_percent, "100%",
                 "replicas per challenger, a count or a percentage of the release's replicas"),
      interval,
      min_requests,
      param_spec("max_error_rate_increase", ParamType::percent, "0.5",
                 "fail when the challenger's error rate exceeds the champion's by more (percentage points)"),
      p99,
      quality,
      min_labels,
      param_spec("promote_after", ParamType::duration, "30m",
                 "promote once the comparison has passed without interruption this long"),
      threshold,
      param_spec("max_duration", ParamType::duration, "0",
                 "abort when no challenger has won by then; 0: no limit"),
      promotion,
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<Shadow>(params);
  };
  return info;
}

}  // namespace sim

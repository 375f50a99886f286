// `multi_service`: the new version takes all traffic while the previous versions stay deployed at reduced
// scale; when the live version fails its checks, traffic fails over to the newest standby at once and the
// standby grows back to full size.
#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

enum Timer : std::uint64_t { kShrink = 1, kAnalysis = 2 };

class MultiService final : public Strategy {
 public:
  explicit MultiService(const ParamValues& p)
      : template_(p.analysis_template("analysis")),
        standby_param_(p.count_or_percent("standby_replicas")),
        scale_down_delay_(p.duration("scale_down_delay_seconds")) {
    for (const ParamList::Item& item : p.list("previous").items)
      previous_names_.push_back(std::get<std::string>(item.value));
  }

  void start(Control& c) override {
    standby_ = std::clamp(standby_param_.resolve(c.replicas(), true), 1, c.replicas());
    live_ = c.stable();
    standbys_.push_back(c.stable());
    for (const std::string& name : previous_names_) {
      const VersionId v = c.version_id(name);
      if (v == c.stable() || v == c.candidate() ||
          std::find(standbys_.begin(), standbys_.end(), v) != standbys_.end())
        continue;
      standbys_.push_back(v);
      c.scale(v, standby_);
      c.set_retained(v, true);
    }
    route_to(c, c.stable());
    c.scale(c.candidate(), c.replicas());
    c.note("multi-service: scale " + c.version_name(c.candidate()) + " to " + std::to_string(c.replicas()) +
           "; previous versions stay with " + std::to_string(standby_) + " replicas");
    if (standbys_.size() > 1) {
      std::string older;
      for (std::size_t i = 1; i < standbys_.size(); ++i)
        older += (i > 1 ? ", " : "") + c.version_name(standbys_[i]);
      c.note("multi-service: older standbys " + older + " scaled to " + std::to_string(standby_));
    }
  }

  void on_change(Control& c) override {
    if (watch_pending_ && c.ready(live_) >= c.replicas()) {
      // The standby has grown back: judging it while it was short of replicas would measure the overload.
      watch_pending_ = false;
      c.note("multi-service: " + c.version_name(live_) + " back at " + std::to_string(c.replicas()) +
             " replicas; watching it");
      watch(c);
    }
    if (switched_ || c.ready(c.candidate()) < c.replicas()) return;
    switched_ = true;
    live_ = c.candidate();
    route_to(c, live_);
    c.note("multi-service: " + c.version_name(live_) + " ready: all traffic to it; " +
           c.version_name(c.stable()) + " shrinks to standby in " + format_duration(scale_down_delay_));
    c.timer(scale_down_delay_, kShrink);
    watch(c);
  }

  void on_timer(Control& c, std::uint64_t token) override {
    if (token == kAnalysis && watch_pending_) return;  // a measurement of the version that failed
    if (token == kShrink) {
      // Only if the old version is still the standby it was (no failover to it in the meantime).
      if (live_ == c.stable() || standbys_.empty() || standbys_.front() != c.stable()) return;
      c.scale(c.stable(), standby_);
      c.set_retained(c.stable(), true);
      c.note("multi-service: " + c.version_name(c.stable()) + " kept as standby with " +
             std::to_string(standby_) + " replicas");
      return;
    }
    if (auto phase = driver_.on_timer(c, token)) analysed(c, *phase);
  }

 private:
  void route_to(Control& c, VersionId v) {
    std::vector<double> weights(c.version_count(), 0.0);
    weights[v] = 100;
    c.set_weights(weights);
  }

  void watch(Control& c) { driver_.start(c, c.analysis_template(template_), live_); }

  void analysed(Control& c, AnalysisPhase phase) {
    if (phase == AnalysisPhase::successful || phase == AnalysisPhase::inconclusive) {
      // A continuous watch: the next run starts right away.
      watch(c);
      return;
    }
    fail_over(c, std::string("analysis of ") + c.version_name(live_) + " " + to_string(phase));
  }

  void fail_over(Control& c, const std::string& why) {
    if (standbys_.empty()) {
      c.note("multi-service: " + why + "; no standby left, " + c.version_name(live_) + " keeps serving");
      return;
    }
    const VersionId failed = live_;
    live_ = standbys_.front();
    standbys_.pop_front();
    route_to(c, live_);
    c.set_retained(live_, false);
    c.scale(live_, c.replicas());
    c.set_retained(failed, false);
    c.scale(failed, 0);
    const std::string text =
        why + ": fail over to " + c.version_name(live_) + " and scale it to " + std::to_string(c.replicas());
    if (failed == c.candidate())
      c.abort(text);
    else
      c.note("multi-service: " + text);
    watch_pending_ = true;
    on_change(c);
  }

  std::string template_;
  CountOrPercent standby_param_;
  Time scale_down_delay_;
  std::vector<std::string> previous_names_;
  int standby_ = 0;
  VersionId live_ = 0;
  std::deque<VersionId> standbys_;  // newest first
  bool switched_ = false;
  bool watch_pending_ = false;  // the new live version is still growing back to full size
  AnalysisDriver driver_{"live analysis", kAnalysis};
};

}  // namespace

StrategyInfo multi_service_strategy_info() {
  StrategyInfo info;
  info.name = "multi_service";
  info.description =
      "the new version takes all traffic once ready while previous versions stay deployed at reduced scale; "
      "failed checks fail traffic over to the newest standby at once";
  ParamSpec previous = param_spec("previous", ParamType::list, "[]",
                                  "older models kept as standbys behind the stable version, newest first");
  previous.fields = {param_spec("model", ParamType::model, "", "a model name")};
  info.params = {
      param_spec("analysis", ParamType::analysis_template, "",
                 "checks on the live version, run continuously from the switch; Failed or Error fails over"),
      param_spec("standby_replicas", ParamType::count_or_percent, "25%",
                 "replicas of each standby, a count or a percentage of the release's replicas"),
      previous,
      scale_down_delay_param("the old version at full size"),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<MultiService>(params);
  };
  return info;
}

}  // namespace sim

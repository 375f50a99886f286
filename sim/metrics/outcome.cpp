// Outcome metrics: downtime, SLO-degraded seconds, exposure, rollback and detection times, cost, latency.
#include "sim/metrics/outcome.hpp"

#include <cmath>
#include <cstdio>
#include <iterator>
#include <type_traits>
#include <variant>

#include "sim/world/world.hpp"

namespace sim {

namespace {

// Every numeric field once, in the order of fields(): the table both reading and writing use.
using FieldPtr =
    std::variant<double OutcomeMetrics::*, std::uint64_t OutcomeMetrics::*, int OutcomeMetrics::*>;
const std::pair<const char*, FieldPtr> kFields[] = {
    {"deploy_duration_s", &OutcomeMetrics::deploy_duration_s},
    {"downtime_s", &OutcomeMetrics::downtime_s},
    {"degraded_s", &OutcomeMetrics::degraded_s},
    {"requests", &OutcomeMetrics::requests},
    {"failed_requests", &OutcomeMetrics::failed_requests},
    {"error_budget_used", &OutcomeMetrics::error_budget_used},
    {"time_to_detect_s", &OutcomeMetrics::time_to_detect_s},
    {"rollback_time_s", &OutcomeMetrics::rollback_time_s},
    {"rollback_capacity_time_s", &OutcomeMetrics::rollback_capacity_time_s},
    {"exposure_requests", &OutcomeMetrics::exposure_requests},
    {"exposure_users", &OutcomeMetrics::exposure_users},
    {"bad_exposure_requests", &OutcomeMetrics::bad_exposure_requests},
    {"bad_exposure_users", &OutcomeMetrics::bad_exposure_users},
    {"shadow_requests", &OutcomeMetrics::shadow_requests},
    {"cost", &OutcomeMetrics::cost},
    {"energy_kwh", &OutcomeMetrics::energy_kwh},
    {"peak_nodes", &OutcomeMetrics::peak_nodes},
    {"latency_p50_s", &OutcomeMetrics::latency_p50_s},
    {"latency_p95_s", &OutcomeMetrics::latency_p95_s},
    {"latency_p99_s", &OutcomeMetrics::latency_p99_s},
    {"rollout_latency_p50_s", &OutcomeMetrics::rollout_latency_p50_s},
    {"rollout_latency_p95_s", &OutcomeMetrics::rollout_latency_p95_s},
    {"rollout_latency_p99_s", &OutcomeMetrics::rollout_latency_p99_s},
    {"reward", &OutcomeMetrics::reward},
    {"regret", &OutcomeMetrics::regret},
};

}  // namespace

std::vector<std::pair<std::string, double>> OutcomeMetrics::fields() const {
  std::vector<std::pair<std::string, double>> out;
  out.reserve(std::size(kFields));
  for (const auto& [name, ptr] : kFields)
    out.emplace_back(name, std::visit([this](auto p) { return static_cast<double>(this->*p); }, ptr));
  return out;
}

bool OutcomeMetrics::set(std::string_view name, double value) {
  for (const auto& [field, ptr] : kFields) {
    if (name != field) continue;
    std::visit(
        [this, value](auto p) {
          using T = std::remove_reference_t<decltype(this->*p)>;
          this->*p = static_cast<T>(value);
        },
        ptr);
    return true;
  }
  return false;
}

std::string OutcomeMetrics::dump() const {
  std::string out = "outcome=" + outcome + "\n";
  char buf[64];
  for (const auto& [name, value] : fields()) {
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += name + "=" + buf + "\n";
  }
  return out;
}

OutcomeObserver::OutcomeObserver(World& world, SloSpec slo, int release_replicas)
    : world_(world), slo_(slo), release_replicas_(release_replicas) {
  const std::uint32_t population = world.config().users ? world.config().users->size() : 1;
  exposed_bits_.assign((population + 63) / 64, 0);
  bad_bits_.assign((population + 63) / 64, 0);
  const Time window_s = std::max<Time>(1, slo_.window / kSecond);
  ring_.assign(static_cast<std::size_t>(window_s), SecondBucket{});
  current_second_ = world.now() / kSecond;
  last_change_ = world.now();
  servable_ = world.live_traffic_servable();
  peak_nodes_ = world.billed_nodes();
  for (const Mark& m : world.marks()) on_mark(m);  // decisions taken before this observer joined
}

void OutcomeObserver::count_user(std::vector<std::uint64_t>& bits, std::uint64_t& count, std::uint32_t user) {
  std::uint64_t& word = bits[user / 64];
  const std::uint64_t bit = std::uint64_t{1} << (user % 64);
  if (!(word & bit)) {
    word |= bit;
    ++count;
  }
}

void OutcomeObserver::advance_seconds(Time second) {
  // Close every second before `second`: evaluate the window that ends with it, then drop the oldest.
  const std::size_t n = ring_.size();
  const double max_error = 1 - slo_.availability;
  const double max_slow = 1 - slo_.latency_quantile;
  while (current_second_ < second) {
    if (window_total_ > 0) {
      const double total = static_cast<double>(window_total_);
      const bool bad_availability = static_cast<double>(window_errors_) > max_error * total;
      const bool bad_latency =
          slo_.latency_threshold != kTimeNever && static_cast<double>(window_slow_) > max_slow * total;
      if (bad_availability || bad_latency) ++degraded_seconds_;
    }
    ++current_second_;
    SecondBucket& next = ring_[static_cast<std::size_t>(current_second_) % n];
    window_total_ -= next.total;
    window_errors_ -= next.errors;
    window_slow_ -= next.slow;
    next = SecondBucket{};
    // Idle stretches: once the window is empty, jump ahead.
    if (window_total_ == 0 && second - current_second_ > static_cast<Time>(n)) {
      current_second_ = second - static_cast<Time>(n);
      for (auto& b : ring_) b = SecondBucket{};
    }
  }
}

void OutcomeObserver::on_request(const RequestRecord& r) {
  if (r.shadow) {
    ++shadow_;
    return;
  }
  advance_seconds(r.done / kSecond);
  ++requests_;
  const bool failed = r.status != RequestStatus::ok;
  const bool slow = r.latency > slo_.latency_threshold || r.status == RequestStatus::timeout;
  SecondBucket& b = ring_[static_cast<std::size_t>(current_second_) % ring_.size()];
  ++b.total;
  ++window_total_;
  if (failed) {
    ++failed_;
    ++b.errors;
    ++window_errors_;
  }
  if (slow) {
    ++b.slow;
    ++window_slow_;
  }
  const bool served = r.status == RequestStatus::ok || r.status == RequestStatus::error ||
                      r.status == RequestStatus::timeout || r.status == RequestStatus::aborted;
  if (served) {
    latency_.add(r.latency);
    if (release_start_ != kTimeNever && deploy_end_ == kTimeNever) rollout_latency_.add(r.latency);
  }
  if (r.version == world_.candidate() && world_.candidate() != world_.stable() &&
      r.status != RequestStatus::no_replica && release_start_ != kTimeNever) {
    ++exposure_;
    count_user(exposed_bits_, exposure_users_, r.user);
    if (r.defect_active) {
      ++bad_exposure_;
      count_user(bad_bits_, bad_exposure_users_, r.user);
    }
  }
  if (r.status == RequestStatus::ok) regret_ += r.best_quality - r.expected_quality;
}

void OutcomeObserver::on_node_state(std::uint32_t, NodeState, NodeState, Time) {
  peak_nodes_ = std::max(peak_nodes_, world_.billed_nodes());
}

void OutcomeObserver::on_defect_onset(VersionId v, std::size_t, Time t) {
  if (v == world_.candidate() && onset_at_ == kTimeNever) onset_at_ = t;
}

void OutcomeObserver::on_mark(const Mark& m) {
  switch (m.kind) {
    case MarkKind::release_start:
      if (release_start_ == kTimeNever) release_start_ = m.time;
      break;
    case MarkKind::abort:
      if (abort_at_ == kTimeNever) abort_at_ = m.time;
      if (promoted_) {
        // A standby kept after the promotion (multi-service) takes the traffic back: the release ends
        // as a rollback after all.
        promoted_ = false;
        deploy_end_ = kTimeNever;
      }
      break;
    case MarkKind::stalled:
      stalled_ = true;
      break;
    case MarkKind::promoted:
    case MarkKind::note:
      break;
  }
  update();
}

void OutcomeObserver::update() {
  const Time now = world_.now();
  const bool servable = world_.live_traffic_servable();
  if (!servable_) downtime_ns_ += static_cast<double>(now - last_change_);
  servable_ = servable;
  last_change_ = now;

  if (release_start_ == kTimeNever) return;
  if (abort_at_ != kTimeNever && rollback_capacity_at_ == kTimeNever &&
      world_.ready(world_.stable()) >= release_replicas_)
    rollback_capacity_at_ = now;
  if (deploy_end_ != kTimeNever) return;
  const VersionId stable = world_.stable();
  const VersionId candidate = world_.candidate();
  auto gone = [&](VersionId v) {
    return world_.active(v) == 0 && world_.count(v, ReplicaState::draining) == 0;
  };
  if (abort_at_ == kTimeNever) {
    if (world_.traffic_share(candidate) >= 1 - 1e-12 && world_.ready(candidate) >= release_replicas_ &&
        (gone(stable) || world_.retained(stable))) {
      deploy_end_ = now;
      promoted_ = true;
    }
    return;
  }
  if (rollback_traffic_at_ == kTimeNever && world_.traffic_share(stable) >= 1 - 1e-12 &&
      world_.ready(stable) > 0)
    rollback_traffic_at_ = now;
  if (rollback_traffic_at_ != kTimeNever && gone(candidate)) {
    deploy_end_ = now;
    rolled_back_ = true;
  }
}

OutcomeMetrics OutcomeObserver::finish() {
  update();
  const Time now = world_.now();
  advance_seconds(now / kSecond);
  OutcomeMetrics m;
  if (release_start_ == kTimeNever) {
    m.outcome = "none";
  } else if (promoted_) {
    m.outcome = "promoted";
  } else if (rolled_back_) {
    m.outcome = "rolled_back";
  } else if (stalled_) {
    m.outcome = "stalled";
  } else {
    m.outcome = "incomplete";
  }
  if (deploy_end_ != kTimeNever) m.deploy_duration_s = to_seconds(deploy_end_ - release_start_);
  m.downtime_s = downtime_ns_ / static_cast<double>(kSecond);
  m.degraded_s = static_cast<double>(degraded_seconds_);
  m.requests = requests_;
  m.failed_requests = failed_;
  const double budget = static_cast<double>(requests_) * (1 - slo_.availability);
  m.error_budget_used = budget > 0 ? static_cast<double>(failed_) / budget : 0;
  if (abort_at_ != kTimeNever && onset_at_ != kTimeNever && abort_at_ >= onset_at_)
    m.time_to_detect_s = to_seconds(abort_at_ - onset_at_);
  if (abort_at_ != kTimeNever && rollback_traffic_at_ != kTimeNever)
    m.rollback_time_s = to_seconds(rollback_traffic_at_ - abort_at_);
  if (abort_at_ != kTimeNever && rollback_capacity_at_ != kTimeNever)
    m.rollback_capacity_time_s = to_seconds(rollback_capacity_at_ - abort_at_);
  m.exposure_requests = exposure_;
  m.exposure_users = exposure_users_;
  m.bad_exposure_requests = bad_exposure_;
  m.bad_exposure_users = bad_exposure_users_;
  m.shadow_requests = shadow_;
  m.cost = world_.cost_so_far();
  m.energy_kwh = world_.energy_joules_so_far() / 3.6e6;
  m.peak_nodes = std::max(peak_nodes_, world_.billed_nodes());
  m.latency_p50_s = to_seconds(latency_.quantile(0.50));
  m.latency_p95_s = to_seconds(latency_.quantile(0.95));
  m.latency_p99_s = to_seconds(latency_.quantile(0.99));
  if (rollout_latency_.count() > 0) {
    m.rollout_latency_p50_s = to_seconds(rollout_latency_.quantile(0.50));
    m.rollout_latency_p95_s = to_seconds(rollout_latency_.quantile(0.95));
    m.rollout_latency_p99_s = to_seconds(rollout_latency_.quantile(0.99));
  }
  m.reward = reward_;
  m.regret = regret_;
  return m;
}

}  // namespace sim

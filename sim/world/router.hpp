// Splits live requests between model versions.
//
// Two modes: replica-proportional (a Kubernetes Service over every in-service version: each Ready replica
// gets an equal share) and weighted (a traffic router such as Istio or an ingress: per-version percentages).
// Match rules on user segments take precedence over both, then a route hook (a feature flag deciding per
// user); stickiness keeps a user on its version while the split holds; mirroring copies a share of
// requests to one or more shadow versions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/random.hpp"

namespace sim {

using VersionId = std::uint16_t;
inline constexpr VersionId kNoVersion = UINT16_MAX;

struct MatchRule {
  int attribute = 0;      // user attribute index
  int category = 0;       // category of that attribute
  VersionId version = 0;  // where matching users go
};

/// A per-request decision that takes precedence over weights and replica shares (feature flags with
/// targeting and percentage rollouts). Returns kNoVersion to leave the request to the split. Called once
/// per live request from the owning world's thread.
class RouteHook {
 public:
  virtual ~RouteHook() = default;
  virtual VersionId route(std::uint32_t user, std::span<const std::uint8_t> segments) = 0;
};

class Router {
 public:
  explicit Router(std::size_t versions = 0, std::uint64_t salt = 0);

  /// Kubernetes Service semantics: traffic follows Ready replicas of in-service versions.
  void use_replica_proportional();
  /// Percentages per version (index = version id); must be >= 0 with a positive sum.
  void set_weights(std::span<const double> weights);
  void set_in_service(VersionId v, bool in_service);
  void set_sticky(bool sticky) { sticky_ = sticky; }
  void set_match_rules(std::vector<MatchRule> rules) { rules_ = std::move(rules); }
  /// Mirrors `percent` of live requests to v (0 stops mirroring to v); several versions may be mirrored.
  void set_mirror(VersionId v, double percent);
  void clear_mirror();
  /// Installs (or with nullptr removes) the route hook; the caller keeps it alive while installed.
  void set_hook(RouteHook* hook) { hook_ = hook; }

  bool weighted() const { return weighted_; }
  bool sticky() const { return sticky_; }
  bool in_service(VersionId v) const { return in_service_[v] != 0; }
  double weight(VersionId v) const { return weights_[v]; }
  /// Versions receiving mirrored copies, in version order.
  const std::vector<VersionId>& mirrors() const { return mirrors_; }
  double mirror_fraction(VersionId v) const { return mirror_fraction_[v]; }
  RouteHook* hook() const { return hook_; }
  const std::vector<MatchRule>& match_rules() const { return rules_; }

  /// Chooses the version for a live request. `segments[a]` is the user's category of attribute a;
  /// `ready[v]` the number of Ready replicas of version v. Returns kNoVersion if nothing can take it.
  VersionId route(std::uint32_t user, std::span<const std::uint8_t> segments, std::span<const int> ready,
                  Rng& rng) const;

  /// Whether a copy of this request goes to mirror v (one draw per mirror below 100%).
  bool mirror_to(VersionId v, Rng& rng) const;

  /// Configured share of live traffic (ignoring match rules) that version v receives.
  double share(VersionId v, std::span<const int> ready) const;

  /// Stable position of a user in [0, 1), for sticky splits.
  double bucket(std::uint32_t user) const;

 private:
  std::vector<double> weights_;
  std::vector<std::uint8_t> in_service_;
  std::vector<MatchRule> rules_;
  bool weighted_ = false;
  bool sticky_ = false;
  std::vector<double> mirror_fraction_;
  std::vector<VersionId> mirrors_;
  RouteHook* hook_ = nullptr;
  std::uint64_t salt_;
};

}  // namespace sim

// Splits live requests between model versions.
//
// Two modes: replica-proportional (a Kubernetes Service over every in-service version: each Ready replica
// gets an equal share) and weighted (a traffic router such as Istio or an ingress: per-version percentages).
// Match rules on user segments take precedence over both; stickiness keeps a user on its version while the
// split holds; mirroring copies a share of requests to a shadow version.
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
  void set_mirror(VersionId v, double percent);
  void clear_mirror() {
    mirror_version_ = kNoVersion;
    mirror_fraction_ = 0;
  }

  bool weighted() const { return weighted_; }
  bool sticky() const { return sticky_; }
  bool in_service(VersionId v) const { return in_service_[v] != 0; }
  double weight(VersionId v) const { return weights_[v]; }
  VersionId mirror_version() const { return mirror_version_; }
  double mirror_fraction() const { return mirror_fraction_; }
  const std::vector<MatchRule>& match_rules() const { return rules_; }

  /// Chooses the version for a live request. `segments[a]` is the user's category of attribute a;
  /// `ready[v]` the number of Ready replicas of version v. Returns kNoVersion if nothing can take it.
  VersionId route(std::uint32_t user, std::span<const std::uint8_t> segments, std::span<const int> ready,
                  Rng& rng) const;

  /// Whether a copy of this request goes to the mirror.
  bool mirror(Rng& rng) const;

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
  VersionId mirror_version_ = kNoVersion;
  double mirror_fraction_ = 0;
  std::uint64_t salt_;
};

}  // namespace sim

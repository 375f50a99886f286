// The platform: what the world asks of the infrastructure below the replicas. Image and model-weight
// transfers from the registry to nodes, node links going down and up, and the energy of powered nodes.
//
// Two implementations: NativePlatform (max-min fair sharing computed in the event loop, the default) and
// SimGridPlatform (SimGrid's network models and energy plugin, co-simulated step by step). Request
// traffic never goes through a platform; only these coarse activities do.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/simulation.hpp"
#include "sim/core/time.hpp"

namespace sim {

using NodeLinkId = std::uint32_t;

/// Handle of a pull; default-constructed handles refer to nothing.
struct PullId {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
  friend bool operator==(PullId, PullId) = default;
};

/// How a pull ended: its bytes arrived, or the transfer failed (a host or link on its route went down).
enum class PullStatus : std::uint8_t { done, failed };

/// Where a node sits: its pool, the pool's zone, its index among the pool's nodes, and its link.
struct NodeSite {
  std::string pool;
  std::string zone;
  std::uint32_t index = 0;  // 0, 1, ... within the pool, in the order nodes are added
  double link_bytes_per_second = 25e9 / 8;
  double idle_watts = 0;  // drawn while powered; a node's power is linear in its load up to busy_watts
  double busy_watts = 0;
};

class Platform {
 public:
  using PullCallback = std::function<void(PullId, PullStatus)>;

  virtual ~Platform() = default;

  /// Adds a node (called once per node, in the order nodes are created).
  virtual NodeLinkId add_node(const NodeSite& site) = 0;
  /// The node was released; whatever backs it may serve a later node.
  virtual void remove_node(NodeLinkId /*node*/) {}
  /// Starts pulling `bytes` to `node`. `on_done` runs from the event loop at the exact time the pull ends,
  /// never from inside start_pull.
  virtual PullId start_pull(NodeLinkId node, double bytes, PullCallback on_done) = 0;
  /// Abandons a pull whose callback has not run; returns false if it already ran or was cancelled.
  virtual bool cancel_pull(PullId id) = 0;
  /// The node failed (false) or was repaired (true). Pulls to a failed node do not complete while it is
  /// down: the native model stalls them, SimGrid fails them.
  virtual void set_node_up(NodeLinkId node, bool up) = 0;
  /// Who hears of nodes that went down or up on the platform's own account (SimGrid state profiles); the
  /// call comes from an event of the loop, at the instant of the change.
  using NodeListener = std::function<void(NodeLinkId, bool up)>;
  virtual void set_node_listener(NodeListener /*listener*/) {}
  /// Energy. A node added is off (draws nothing); powered, it draws idle + (busy - idle) x load watts.
  virtual void set_node_power(NodeLinkId node, bool on) = 0;
  /// The busy fraction of a powered node, in [0, 1].
  virtual void set_node_load(NodeLinkId node, double load) = 0;
  /// Joules drawn by all nodes so far, up to the loop's clock.
  virtual double energy_joules() = 0;
  /// Pulls started and not yet ended or cancelled.
  virtual std::size_t active_pulls() const = 0;
  /// "native" or "simgrid".
  virtual const char* backend() const = 0;
};

enum class PlatformBackend : std::uint8_t { native, simgrid };

/// Which platform a scenario runs on (the scenario's `platform` section).
struct PlatformSpec {
  PlatformBackend backend = PlatformBackend::native;
  /// SimGrid platform file (XML); empty: a platform generated from the cluster (one zone per pool zone,
  /// each node with its own link, all behind a registry link).
  std::string file;
  /// The SimGrid host that serves images.
  std::string registry = "registry";
  /// SimGrid's network/model: LV08 (SimGrid's default), CM02, SMPI, ...
  std::string network_model = "LV08";
  /// SimGrid's network/crosstraffic (acknowledgements share the links); off gives textbook max-min sharing.
  bool crosstraffic = true;
  /// SimGrid's network/TCP-gamma: the largest TCP window in bytes; each flow is capped at
  /// window / (2 x route latency). 0 lifts the cap.
  double tcp_window = 4194304;
  /// With a file: pool name -> the prefix of its hosts' names ("gpu-" maps node i of pool gpu to host
  /// "gpu-<i>"); pools not listed use "<pool>-". Hosts are taken in order and must exist.
  std::map<std::string, std::string> pool_hosts;
};

/// A pool as the platform sees it: SimGrid creates its hosts up front, one per node it may have at once.
struct PlatformPool {
  std::string name;
  std::string zone;
  int max_nodes = 1;
  double link_bytes_per_second = 25e9 / 8;
  double idle_watts = 0;
  double busy_watts = 0;
};

/// The platform a world runs on. `registry_bytes_per_second` and `registry_latency` describe the registry
/// link of the native model and of a generated SimGrid platform.
std::unique_ptr<Platform> make_platform(Simulation& sim, const PlatformSpec& spec,
                                        double registry_bytes_per_second, Time registry_latency,
                                        const std::vector<PlatformPool>& pools);

}  // namespace sim

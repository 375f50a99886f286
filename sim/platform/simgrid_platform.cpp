// SimGrid co-simulation of transfers and host failures; see simgrid_platform.hpp.
#include "sim/platform/simgrid_platform.hpp"

#include "sim/platform/linear_energy.hpp"

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace sim {

namespace sg4 = simgrid::s4u;

namespace {

// SimGrid's completion signal is process-wide and outlives platforms; it reaches the live one through this.
SimGridPlatform::Impl* g_live = nullptr;
bool g_engine_created = false;

sg4::Engine& engine() {
  // Created once per process and never destroyed: SimGrid cannot run a second engine in one process.
  static sg4::Engine* e = [] {
    static char name[] = "deploysim";
    static char quiet[] = "--log=root.thresh:critical";
    static char* argv[] = {name, quiet, nullptr};
    int argc = 2;
    return new sg4::Engine(&argc, argv);
  }();
  return *e;
}

}  // namespace

struct SimGridPlatform::Impl {
  struct Pull {
    PullCallback on_done;
    sg4::CommPtr comm;
    NodeLinkId node = 0;
    std::uint32_t generation = 0;
    bool active = false;  // started, not yet reported or cancelled
  };
  struct Node {
    sg4::Host* host = nullptr;
    std::string pool;
    std::size_t host_index = 0;
    sg4::ExecPtr load;  // the running execution that stands for the node's load
  };
  struct Ended {
    std::uint32_t slot;
    std::uint32_t generation;
    bool ok;
    double at;
  };

  Simulation& sim;
  std::uint16_t kind = 0;
  sg4::Host* registry = nullptr;
  std::map<std::string, std::vector<sg4::Host*>> hosts_of_pool;
  std::map<std::string, std::vector<bool>> host_in_use;
  std::vector<Node> nodes;
  std::vector<Pull> pulls;
  std::vector<std::uint32_t> free_pulls;
  std::unordered_map<const sg4::Activity*, std::uint32_t> slot_of;
  std::set<sg4::Activity*> stop;  // SimGrid's vetoed-activity set: non-empty makes run_until return
  std::vector<Ended> ended;
  std::size_t active = 0;
  // Host state changes that SimGrid made itself (state profiles), for the listener.
  bool profiles = false;  // the platform file has state profiles: step SimGrid before every event
  bool changing = false;  // set_node_up is turning a host off or on: not news for the listener
  sg4::ExecPtr marker;    // never started; its presence in `stop` ends run_until after a state change
  std::unordered_map<const sg4::Host*, NodeLinkId> node_of_host;
  struct Change {
    NodeLinkId node;
    bool up;
    double at;
  };
  std::vector<Change> changes;
  std::uint16_t state_kind = 0;
  NodeListener listener;
  bool plugin = false;  // SimGrid's host energy plugin measures the joules (generated platforms)
  LinearEnergy energy;  // otherwise, the native model
  std::set<sg4::Host*> node_hosts;
  // Activities cancelled from outside run_until: SimGrid finishes them in its next step, so they must live
  // until then.
  std::vector<sg4::ActivityPtr> cancelled;

  static void on_state_event(void* self, const Event& e) {
    auto* impl = static_cast<Impl*>(self);
    if (impl->listener) impl->listener(e.target, e.payload != 0);
  }

  void host_changed(const sg4::Host& h) {
    if (changing) return;
    auto it = node_of_host.find(&h);
    if (it == node_of_host.end()) return;
    changes.push_back(Change{it->second, h.is_on(), sg4::Engine::get_clock()});
    stop.insert(marker.get());
  }

  explicit Impl(Simulation& s) : sim(s) {}

  static void on_event(void* self, const Event& e) {
    auto* impl = static_cast<Impl*>(self);
    Pull& p = impl->pulls[e.target];
    if (!p.active || p.generation != e.generation) return;  // cancelled meanwhile
    PullCallback fn = std::move(p.on_done);
    impl->release(e.target);
    if (fn) fn(PullId{e.target, e.generation}, e.payload ? PullStatus::done : PullStatus::failed);
  }

  void release(std::uint32_t slot) {
    Pull& p = pulls[slot];
    if (p.comm) slot_of.erase(p.comm.get());
    p.comm = nullptr;
    p.on_done = nullptr;
    p.active = false;
    ++p.generation;
    --active;
    free_pulls.push_back(slot);
  }

  void completed(const sg4::Activity& a) {
    auto it = slot_of.find(&a);
    if (it == slot_of.end()) return;  // not ours, or cancelled
    const std::uint32_t slot = it->second;
    slot_of.erase(it);
    ended.push_back(Ended{slot, pulls[slot].generation, a.get_state() == sg4::Activity::State::FINISHED,
                          sg4::Engine::get_clock()});
    stop.insert(const_cast<sg4::Activity*>(&a));
  }

  /// Runs SimGrid to `seconds` or the first completion before it, and schedules what ended.
  void run_to(double seconds) {
    const double now = sg4::Engine::get_clock();
    if (seconds < now) seconds = now;  // run_until into the past would abort
    stop.clear();                      // starting a transfer puts it in the set: not a completion
    ended.clear();
    engine().run_until(seconds);
    stop.clear();
    cancelled.clear();
    // A node's state first, so that the world has dealt with the node before its transfers' failures.
    for (const Change& c : changes) sim.schedule(native_time(c.at), state_kind, c.node, c.up ? 1 : 0);
    changes.clear();
    // Transfers ending at one instant are reported in the order they started, whatever SimGrid's order.
    std::sort(ended.begin(), ended.end(),
              [](const Ended& a, const Ended& b) { return a.at != b.at ? a.at < b.at : a.slot < b.slot; });
    for (const Ended& e : ended) {
      Pull& p = pulls[e.slot];
      p.comm = nullptr;  // finished or failed: safe to drop
      sim.schedule(native_time(e.at), kind, e.slot, e.ok ? 1 : 0, e.generation);
    }
    ended.clear();
  }

  Time native_time(double seconds) const {
    return std::max(sim.now(), static_cast<Time>(std::llround(seconds * 1e9)));
  }

  /// Brings SimGrid's clock to the native clock and lets changes made from outside run_until (a host
  /// turned off, a transfer cancelled) take effect at once.
  void sync() { run_to(to_seconds(sim.now())); }

  std::uint32_t new_slot() {
    if (!free_pulls.empty()) {
      const std::uint32_t slot = free_pulls.back();
      free_pulls.pop_back();
      return slot;
    }
    pulls.emplace_back();
    return static_cast<std::uint32_t>(pulls.size() - 1);
  }
};

namespace {

void configure(const PlatformSpec& spec) {
  sg4::Engine::set_config("network/model:" + spec.network_model);
  sg4::Engine::set_config(std::string("network/crosstraffic:") + (spec.crosstraffic ? "1" : "0"));
  sg4::Engine::set_config("network/TCP-gamma", spec.tcp_window);
}

std::string host_list(const std::vector<sg4::Host*>& hosts) {
  std::string out;
  for (std::size_t i = 0; i < hosts.size() && i < 8; ++i) out += (i ? ", " : "") + hosts[i]->get_name();
  if (hosts.size() > 8) out += ", ... (" + std::to_string(hosts.size()) + " hosts)";
  return out;
}

}  // namespace

SimGridPlatform::SimGridPlatform(Simulation& sim, const PlatformSpec& spec, double registry_bytes_per_second,
                                 Time registry_latency, const std::vector<PlatformPool>& pools)
    : impl_(std::make_unique<Impl>(sim)) {
  if (g_engine_created)
    throw std::runtime_error(
        "SimGrid runs one engine per process: run each SimGrid-backed world in its own process");
  g_engine_created = true;
  sg4::Engine& e = engine();
  configure(spec);
  Impl& im = *impl_;
  if (spec.file.empty()) {
    // The energy plugin reads the hosts' wattages when they are sealed: initialise it and set them first.
    sg_host_energy_plugin_init();
    im.plugin = true;
    sg4::NetZone* zone = sg4::create_star_zone("deploysim");
    im.registry = zone->create_host(spec.registry, 1e9);
    sg4::Link* reg_link = zone->create_link("registry-link", registry_bytes_per_second)
                              ->set_latency(to_seconds(registry_latency))
                              ->seal();
    zone->add_route(im.registry->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(reg_link)},
                    true);
    for (const PlatformPool& pool : pools) {
      for (int i = 0; i < pool.max_nodes; ++i) {
        const std::string name = pool.name + "-" + std::to_string(i);
        sg4::Host* h = zone->create_host(name, 1e9);
        char watts[64];
        std::snprintf(watts, sizeof watts, "%.17g:%.17g", pool.idle_watts, pool.busy_watts);
        h->set_property("wattage_per_state", watts);
        h->set_property("wattage_off", "0");
        sg4::Link* l = zone->create_link(name + "-link", pool.link_bytes_per_second)->seal();
        zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(l)}, true);
        im.hosts_of_pool[pool.name].push_back(h);
      }
    }
    zone->seal();
  } else {
    try {
      e.load_platform(spec.file);
    } catch (const std::exception& ex) {
      throw std::runtime_error("cannot load the SimGrid platform " + spec.file + ": " + ex.what());
    }
    im.registry = e.host_by_name_or_null(spec.registry);
    if (!im.registry)
      throw std::runtime_error(spec.file + " has no host '" + spec.registry +
                               "' (platform.registry); hosts: " + host_list(e.get_all_hosts()));
    for (const PlatformPool& pool : pools) {
      auto it = spec.pool_hosts.find(pool.name);
      const std::string prefix = it != spec.pool_hosts.end() ? it->second : pool.name + "-";
      for (int i = 0; i < pool.max_nodes; ++i) {
        sg4::Host* h = e.host_by_name_or_null(prefix + std::to_string(i));
        if (!h)
          throw std::runtime_error(
              spec.file + " has no host '" + prefix + std::to_string(i) + "' for node " + std::to_string(i) +
              " of pool '" + pool.name +
              "' (platform.pools maps pools to host name prefixes); hosts: " + host_list(e.get_all_hosts()));
        im.hosts_of_pool[pool.name].push_back(h);
      }
    }
  }
  for (auto& [name, hosts] : im.hosts_of_pool) {
    im.host_in_use[name].assign(hosts.size(), false);
    im.node_hosts.insert(hosts.begin(), hosts.end());
  }
  if (!spec.file.empty()) {
    // State profiles (state_file) make SimGrid turn hosts off and on by itself.
    std::ifstream in(spec.file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    im.profiles = text.find("state_file") != std::string::npos;
  }
  im.marker = sg4::Exec::init();
  // Node hosts are off until a node is powered on them; off hosts draw wattage_off (0).
  im.changing = true;
  for (sg4::Host* h : im.node_hosts) h->turn_off();
  im.changing = false;
  im.kind = sim.add_handler(&Impl::on_event, impl_.get());
  im.state_kind = sim.add_handler(&Impl::on_state_event, impl_.get());
  e.track_vetoed_activities(&im.stop);
  static const bool connected = [] {
    sg4::Activity::on_completion_cb([](const sg4::Activity& a) {
      if (g_live) g_live->completed(a);
    });
    sg4::Host::on_state_change_cb([](const sg4::Host& h) {
      if (g_live) g_live->host_changed(h);
    });
    return true;
  }();
  (void)connected;
  g_live = impl_.get();
  sim.set_cosimulation(this);
}

SimGridPlatform::~SimGridPlatform() {
  impl_->sim.set_cosimulation(nullptr);
  for (auto& p : impl_->pulls)
    if (p.active && p.comm) {
      impl_->slot_of.erase(p.comm.get());
      p.comm->cancel();
    }
  for (auto& n : impl_->nodes)
    if (n.load && n.load->get_state() == sg4::Activity::State::STARTED) n.load->cancel();
  if (g_live == impl_.get()) g_live = nullptr;
}

NodeLinkId SimGridPlatform::add_node(const NodeSite& site) {
  auto hosts = impl_->hosts_of_pool.find(site.pool);
  if (hosts == impl_->hosts_of_pool.end())
    throw std::out_of_range("simgrid platform: unknown pool " + site.pool);
  std::vector<bool>& used = impl_->host_in_use[site.pool];
  const auto free = std::find(used.begin(), used.end(), false);
  if (free == used.end())
    throw std::runtime_error("simgrid platform: pool " + site.pool + " has more nodes than its " +
                             std::to_string(used.size()) + " hosts");
  *free = true;
  Impl::Node node;
  node.pool = site.pool;
  node.host_index = static_cast<std::size_t>(free - used.begin());
  node.host = hosts->second[node.host_index];
  impl_->nodes.push_back(node);
  const auto id = static_cast<NodeLinkId>(impl_->nodes.size() - 1);
  impl_->energy.add_node(id, site.idle_watts, site.busy_watts);
  impl_->node_of_host[node.host] = id;
  return id;
}

void SimGridPlatform::remove_node(NodeLinkId node) {
  const Impl::Node& n = impl_->nodes.at(node);
  impl_->host_in_use[n.pool][n.host_index] = false;
  auto it = impl_->node_of_host.find(n.host);
  if (it != impl_->node_of_host.end() && it->second == node) impl_->node_of_host.erase(it);
}

PullId SimGridPlatform::start_pull(NodeLinkId node, double bytes, PullCallback on_done) {
  Impl& im = *impl_;
  if (!std::isfinite(bytes) || bytes < 0)
    throw std::invalid_argument("pull size must be a finite number of bytes >= 0, got " +
                                std::to_string(bytes));
  sg4::Host* to = im.nodes.at(node).host;
  im.sync();
  const std::uint32_t slot = im.new_slot();
  Impl::Pull& p = im.pulls[slot];
  p.on_done = std::move(on_done);
  p.node = node;
  p.active = true;
  ++im.active;
  const PullId id{slot, p.generation};
  if (!im.registry->is_on() || !to->is_on()) {
    // SimGrid aborts on a transfer to a host that is off: the pull fails at once instead.
    im.sim.schedule(im.sim.now(), im.kind, slot, 0, p.generation);
    return id;
  }
  const auto size = static_cast<std::uint64_t>(std::llround(bytes));
  if (size == 0) {
    p.comm = sg4::Comm::sendto_init(im.registry, to);  // an empty sendto_async would never start
    im.slot_of[p.comm.get()] = slot;
    p.comm->start();
  } else {
    p.comm = sg4::Comm::sendto_async(im.registry, to, size);
    im.slot_of[p.comm.get()] = slot;
  }
  return id;
}

bool SimGridPlatform::cancel_pull(PullId id) {
  Impl& im = *impl_;
  if (id.slot >= im.pulls.size()) return false;
  Impl::Pull& p = im.pulls[id.slot];
  if (!p.active || p.generation != id.generation) return false;
  im.sync();
  sg4::CommPtr comm = p.comm;  // non-null: still running (ended transfers drop theirs)
  im.release(id.slot);
  if (comm) {
    comm->cancel();
    im.cancelled.push_back(comm);
  }
  im.sync();  // the others' shares change now
  return true;
}

void SimGridPlatform::set_node_up(NodeLinkId node, bool up) {
  Impl& im = *impl_;
  sg4::Host* h = im.nodes.at(node).host;
  im.sync();
  im.changing = true;
  if (up && !h->is_on()) h->turn_on();
  if (!up && h->is_on()) h->turn_off();
  im.changing = false;
  im.sync();  // failures of transfers to it are reported at this instant
}

std::size_t SimGridPlatform::active_pulls() const { return impl_->active; }

double SimGridPlatform::clock() { return sg4::Engine::get_clock(); }

std::string SimGridPlatform::host_name(NodeLinkId node) const {
  return impl_->nodes.at(node).host->get_name();
}

void SimGridPlatform::advance_to(Time t) { impl_->run_to(to_seconds(t)); }

bool SimGridPlatform::busy() const { return impl_->active > 0 || impl_->profiles; }

void SimGridPlatform::set_node_listener(NodeListener listener) { impl_->listener = std::move(listener); }

void SimGridPlatform::set_node_power(NodeLinkId node, bool on) {
  Impl& im = *impl_;
  Impl::Node& n = im.nodes.at(node);
  im.energy.set_power(node, on, im.sim.now());
  im.sync();
  im.changing = true;
  if (on && !n.host->is_on()) n.host->turn_on();
  if (!on && n.host->is_on()) n.host->turn_off();
  im.changing = false;
  im.sync();
}

void SimGridPlatform::set_node_load(NodeLinkId node, double load) {
  Impl& im = *impl_;
  Impl::Node& n = im.nodes.at(node);
  load = std::clamp(load, 0.0, 1.0);
  im.energy.set_load(node, load, im.sim.now());
  im.sync();
  if (n.load) {
    if (n.load->get_state() == sg4::Activity::State::STARTED) n.load->cancel();
    im.cancelled.push_back(std::move(n.load));
  }
  if (load > 0 && n.host->is_on()) {
    // An execution that never ends, bounded to `load` of the host's speed: the plugin's linear model then
    // sees that load.
    n.load =
        sg4::Exec::init()->set_host(n.host)->set_flops_amount(1e30)->set_bound(load * n.host->get_speed());
    n.load->start();
  }
  im.sync();
}

double SimGridPlatform::energy_joules() {
  Impl& im = *impl_;
  if (!im.plugin) return im.energy.joules(im.sim.now());
  im.sync();
  double joules = 0;
  for (sg4::Host* h : im.node_hosts) joules += sg_host_get_consumed_energy(h);
  return joules;
}

}  // namespace sim

// The platform a world runs on, by backend.
#include <stdexcept>

#include "sim/platform/native_platform.hpp"
#include "sim/platform/platform.hpp"
#include "sim/platform/simgrid_platform.hpp"

namespace sim {

std::unique_ptr<Platform> make_platform(Simulation& sim, const PlatformSpec& spec,
                                        double registry_bytes_per_second, Time registry_latency,
                                        const std::vector<PlatformPool>& pools) {
  switch (spec.backend) {
    case PlatformBackend::native:
      return std::make_unique<NativePlatform>(sim, registry_bytes_per_second, registry_latency);
    case PlatformBackend::simgrid:
      return std::make_unique<SimGridPlatform>(sim, spec, registry_bytes_per_second, registry_latency, pools);
  }
  throw std::logic_error("unknown platform backend");
}

}  // namespace sim

// The platform a world runs on, by backend.
#include <stdexcept>

#include "sim/platform/native_platform.hpp"
#include "sim/platform/platform.hpp"

namespace sim {

std::unique_ptr<Platform> make_platform(Simulation& sim, const PlatformSpec& spec,
                                        double registry_bytes_per_second, Time registry_latency) {
  switch (spec.backend) {
    case PlatformBackend::native:
      return std::make_unique<NativePlatform>(sim, registry_bytes_per_second, registry_latency);
    case PlatformBackend::simgrid:
      break;
  }
  throw std::runtime_error("the simgrid platform backend is not built in");
}

}  // namespace sim

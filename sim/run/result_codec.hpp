// A RunResult as text and back, exactly (doubles round-trip; NaN survives), for runs made in a child process.
#pragma once

#include <string>
#include <string_view>

#include "sim/run/result.hpp"

namespace sim {

std::string encode_run_result(const RunResult& r);
/// Throws std::runtime_error if `text` is not what encode_run_result wrote.
RunResult decode_run_result(std::string_view text);

}  // namespace sim

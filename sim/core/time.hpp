// Simulated time: integer nanoseconds. Doubles and unit strings exist only at the edges.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sim {

using Time = std::int64_t;

inline constexpr Time kNanosecond = 1;
inline constexpr Time kMicrosecond = 1000 * kNanosecond;
inline constexpr Time kMillisecond = 1000 * kMicrosecond;
inline constexpr Time kSecond = 1000 * kMillisecond;
inline constexpr Time kMinute = 60 * kSecond;
inline constexpr Time kHour = 60 * kMinute;
inline constexpr Time kDay = 24 * kHour;
inline constexpr Time kTimeNever = INT64_MAX;

/// Thrown for malformed unit strings; the message names the text and what is allowed.
class UnitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

constexpr double to_seconds(Time t) { return static_cast<double>(t) / static_cast<double>(kSecond); }

/// Rounds to the nearest nanosecond; throws UnitError for NaN, infinities and values out of range.
Time from_seconds(double seconds);

/// Parses "250ms", "3m", "1.5h", "7d", "20us", "10ns", "30s" (also "0"). Units: ns us ms s m h d.
Time parse_duration(std::string_view text);

/// Shortest exact rendering with the largest unit that divides evenly, e.g. "250ms", "1.5h" -> "90m".
std::string format_duration(Time t);

}  // namespace sim

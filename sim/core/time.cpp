// Parsing and printing of durations with units.
#include "sim/core/time.hpp"
#include "sim/core/text.hpp"

#include <array>
#include <cmath>
#include <cstdlib>

namespace sim {
namespace {

struct UnitScale {
  std::string_view name;
  Time scale;
};

constexpr std::array<UnitScale, 7> kUnits{{{"ns", kNanosecond},
                                           {"us", kMicrosecond},
                                           {"ms", kMillisecond},
                                           {"s", kSecond},
                                           {"m", kMinute},
                                           {"h", kHour},
                                           {"d", kDay}}};

constexpr std::string_view kAllowed =
    "a number followed by one of ns, us, ms, s, m, h, d (e.g. 250ms, 3m, 1.5h)";

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  std::string msg = "invalid duration " + quoted(text) + ": ";
  msg.append(why);
  msg.append("; expected ");
  msg.append(kAllowed);
  throw UnitError(msg);
}

}  // namespace

Time from_seconds(double seconds) {
  if (!std::isfinite(seconds)) throw UnitError("duration is not a finite number of seconds");
  const double ns = std::round(seconds * static_cast<double>(kSecond));
  if (std::fabs(ns) >= 9.2e18) throw UnitError("duration is out of range (about +-292 years)");
  return static_cast<Time>(ns);
}

Time parse_duration(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) fail(text, "it is empty");
  std::size_t split = s.size();
  while (split > 0 && std::isalpha(static_cast<unsigned char>(s[split - 1]))) --split;
  std::string_view number = s.substr(0, split);
  while (!number.empty() && number.back() == ' ') number.remove_suffix(1);  // "5 s" is allowed
  const std::string_view unit = s.substr(split);
  if (number.empty()) fail(text, "the number is missing");
  for (char c : number) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' ||
          c == 'E'))
      fail(text, quoted(number) + " is not a number");
  }
  const std::string number_str(number);
  char* end = nullptr;
  const double value = std::strtod(number_str.c_str(), &end);
  if (end != number_str.c_str() + number_str.size()) fail(text, quoted(number_str) + " is not a number");
  if (unit.empty()) {
    if (value == 0.0) return 0;
    fail(text, "the unit is missing");
  }
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      const double ns = value * static_cast<double>(u.scale);
      if (!std::isfinite(ns) || std::fabs(ns) >= 9.2e18) fail(text, "it is out of range");
      return static_cast<Time>(std::llround(ns));
    }
  }
  fail(text, "unknown unit " + quoted(unit));
}

std::string format_duration(Time t) {
  if (t == 0) return "0s";
  if (t == kTimeNever) return "never";
  // The largest unit that divides exactly; nanoseconds always do.
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (t % it->scale == 0) {
      std::string out = std::to_string(t / it->scale);
      out.append(it->name);
      return out;
    }
  }
  return std::to_string(t) + "ns";
}

}  // namespace sim

// Small text helpers for error messages.
#pragma once

#include <string>
#include <string_view>

namespace sim {

/// Returns 'text' in single quotes. Built by append rather than operator+ on a literal, which GCC 12
/// misdiagnoses under -Wrestrict.
inline std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

}  // namespace sim

// Tests for duration parsing and printing.
#include <catch2/catch.hpp>

#include "sim/core/time.hpp"

using namespace sim;

TEST_CASE("core/time: parse units", "[core]") {
  CHECK(parse_duration("250ms") == 250 * kMillisecond);
  CHECK(parse_duration("3m") == 3 * kMinute);
  CHECK(parse_duration("1.5h") == 90 * kMinute);
  CHECK(parse_duration("7d") == 7 * kDay);
  CHECK(parse_duration("20us") == 20 * kMicrosecond);
  CHECK(parse_duration("10ns") == 10);
  CHECK(parse_duration(" 30s ") == 30 * kSecond);
  CHECK(parse_duration("0") == 0);
  CHECK(parse_duration("2.5e-3s") == 2500 * kMicrosecond);
}

TEST_CASE("core/time: bad units are errors naming the text", "[core]") {
  CHECK_THROWS_WITH(parse_duration("5 parsecs"), Catch::Contains("unknown unit 'parsecs'"));
  CHECK_THROWS_WITH(parse_duration("12"), Catch::Contains("unit is missing"));
  CHECK_THROWS_WITH(parse_duration("ms"), Catch::Contains("number is missing"));
  CHECK_THROWS_WITH(parse_duration(""), Catch::Contains("empty"));
  CHECK_THROWS_WITH(parse_duration("1.2.3s"), Catch::Contains("not a number"));
  CHECK_THROWS_WITH(parse_duration("1e300d"), Catch::Contains("out of range"));
  CHECK_THROWS_AS(parse_duration("3x"), UnitError);
}

TEST_CASE("core/time: print with the largest exact unit", "[core]") {
  CHECK(format_duration(250 * kMillisecond) == "250ms");
  CHECK(format_duration(90 * kMinute) == "90m");
  CHECK(format_duration(2 * kHour) == "2h");
  CHECK(format_duration(7 * kDay) == "7d");
  CHECK(format_duration(1) == "1ns");
  CHECK(format_duration(-3 * kSecond) == "-3s");
  CHECK(format_duration(0) == "0s");
  for (Time t : {Time{1}, 999 * kMicrosecond, 61 * kSecond, 36 * kHour})
    CHECK(parse_duration(format_duration(t)) == t);
}

TEST_CASE("core/time: seconds conversion", "[core]") {
  CHECK(from_seconds(1.5) == 1500 * kMillisecond);
  CHECK(to_seconds(2 * kMinute) == Approx(120.0));
  CHECK_THROWS_AS(from_seconds(1.0 / 0.0), UnitError);
}

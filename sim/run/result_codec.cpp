// JSON with every double in its shortest round-trip form; NaN is written as null and read back as NaN.
#include "sim/run/result_codec.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sim {

namespace {

using nlohmann::json;

json number(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
double number(const json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

MarkKind mark_kind(const std::string& name) {
  for (MarkKind k :
       {MarkKind::release_start, MarkKind::promoted, MarkKind::abort, MarkKind::stalled, MarkKind::note})
    if (name == to_string(k)) return k;
  throw std::runtime_error("unknown mark kind " + name);
}

}  // namespace

std::string encode_run_result(const RunResult& r) {
  json j;
  j["strategy"] = r.strategy;
  j["replication"] = r.replication;
  j["outcome"] = r.metrics.outcome;
  json metrics = json::object();
  for (const auto& [name, value] : r.metrics.fields()) metrics[name] = number(value);
  j["metrics"] = std::move(metrics);
  j["extra_cost"] = number(r.extra_cost);
  json rows = json::array();
  for (const TimeSeriesRow& t : r.timeseries)
    rows.push_back(json::array({t.time, t.version, t.requests, number(t.traffic_share), t.ready,
                                number(t.error_rate), number(t.latency_p99_s), number(t.cost)}));
  j["timeseries"] = std::move(rows);
  json marks = json::array();
  for (const Mark& m : r.marks) marks.push_back(json::array({to_string(m.kind), m.time, m.reason}));
  j["marks"] = std::move(marks);
  j["events"] = r.events;
  return j.dump();
}

RunResult decode_run_result(std::string_view text) {
  try {
    const json j = json::parse(text);
    RunResult r;
    r.strategy = j.at("strategy").get<std::string>();
    r.replication = j.at("replication").get<std::uint64_t>();
    r.metrics.outcome = j.at("outcome").get<std::string>();
    for (const auto& [name, value] : j.at("metrics").items())
      if (!r.metrics.set(name, number(value))) throw std::runtime_error("unknown metric " + name);
    r.extra_cost = number(j.at("extra_cost"));
    for (const json& row : j.at("timeseries"))
      r.timeseries.push_back(TimeSeriesRow{
          row.at(0).get<Time>(), row.at(1).get<VersionId>(), row.at(2).get<std::uint64_t>(),
          number(row.at(3)), row.at(4).get<int>(), number(row.at(5)), number(row.at(6)), number(row.at(7))});
    for (const json& m : j.at("marks"))
      r.marks.push_back(
          Mark{mark_kind(m.at(0).get<std::string>()), m.at(1).get<Time>(), m.at(2).get<std::string>()});
    r.events = j.at("events").get<std::uint64_t>();
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("a child run's result is unreadable: ") + e.what());
  }
}

}  // namespace sim

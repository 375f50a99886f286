// The self-contained HTML report of `deploysim run`: summary table, per-strategy SVG charts, decisions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/run/result.hpp"

namespace sim {

/// One HTML page that references nothing outside itself (no scripts, fonts, images or links out): the
/// scenario, the side-by-side summary, and per strategy five inline SVG charts of the first
/// replication's time series (traffic share, ready replicas, error rate, p99 latency, cost) with the
/// min-max band over all replications, release/abort/rollback/promotion markers, and its decisions.
std::string render_report(const RunSet& set);

/// The report's charts as standalone SVG files (their style inside), as (file name, contents) pairs:
/// "<strategy label>-<chart>.svg" for the charts traffic-share, ready-replicas, error-rate, p99-latency and
/// cost, in report order. For embedding in documents.
std::vector<std::pair<std::string, std::string>> render_chart_files(const RunSet& set);

/// `text` with & < > " ' replaced by character references, for HTML text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace sim

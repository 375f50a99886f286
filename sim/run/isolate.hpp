// Running a piece of work in a child process: how SimGrid-backed runs get the one SimGrid engine a process
// may have, while the runner's threads, replications and strategies work as they do for native runs.
#pragma once

#include <functional>
#include <string>

namespace sim {

/// Runs `fn` in a forked child process and returns the string it returned. An exception in the child comes
/// back as std::runtime_error with its message; a child that dies without answering (a signal, an abort)
/// raises std::runtime_error saying how it ended. Safe to call from several threads at once.
std::string run_in_child(const std::function<std::string()>& fn);

}  // namespace sim

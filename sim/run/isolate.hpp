// Running a piece of work in a child process: how SimGrid-backed runs get the one SimGrid engine a process
// may have, while the runner's threads, replications and strategies work as they do for native runs.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace sim {

/// A forked child computing a string; read its answer with finish_child (exactly once) or stop it with
/// kill_child.
struct ChildRun {
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe the child answers on
};

/// Forks a child that runs `fn` and answers on a pipe. Fork only from a thread that no other thread of the
/// process is racing with on allocation: a child inherits locks in whatever state they were (the runner
/// starts all its children from one thread for this reason).
ChildRun start_child(const std::function<std::string()>& fn);
/// Reads the child's answer to the end and reaps it; rethrows its exception, or says how it died.
std::string finish_child(ChildRun child);
/// Kills a child that has not been finished and reaps it.
void kill_child(ChildRun child);
/// Waits up to `timeout_ms` (-1: forever) until one child has something to say; returns its index, or
/// children.size() on timeout.
std::size_t wait_for_children(const std::vector<ChildRun>& children, int timeout_ms);

/// Runs `fn` in a forked child process and returns the string it returned. An exception in the child comes
/// back as std::runtime_error with its message; a child that dies without answering (a signal, an abort)
/// raises std::runtime_error saying how it ended.
std::string run_in_child(const std::function<std::string()>& fn);

}  // namespace sim

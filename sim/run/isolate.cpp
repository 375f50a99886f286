// fork, a pipe for the answer, and waitpid.
#include "sim/run/isolate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace sim {

namespace {

void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

ChildRun start_child(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("cannot create a pipe for a child run: ") + std::strerror(errno));
  std::fflush(nullptr);  // or the child would write out what the parent had buffered once more
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("cannot start a child process: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    // The parent's crash handlers (a test framework's, say) must not run here: a child that crashes dies.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
    std::string answer;
    try {
      answer = fn();
      answer.insert(answer.begin(), 'R');
    } catch (const std::exception& e) {
      answer.assign(1, 'E');
      answer.append(e.what());
    } catch (...) {
      answer = "Eunknown error in a child run";
    }
    write_all(fds[1], answer);
    ::close(fds[1]);
    ::_exit(0);  // no exit handlers or destructors: they belong to the parent
  }
  ::close(fds[1]);
  return ChildRun{pid, fds[0]};
}

std::string finish_child(ChildRun child) {
  std::string answer;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(child.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(child.fd);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (answer.empty()) {
    if (WIFSIGNALED(status))
      throw std::runtime_error("a child run was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                               strsignal(WTERMSIG(status)) + ")");
    throw std::runtime_error("a child run ended without an answer (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  if (answer[0] == 'E') throw std::runtime_error(answer.substr(1));
  return answer.substr(1);
}

void kill_child(ChildRun child) {
  ::kill(child.pid, SIGKILL);
  ::close(child.fd);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
}

std::size_t wait_for_children(const std::vector<ChildRun>& children, int timeout_ms) {
  std::vector<pollfd> fds;
  for (const ChildRun& c : children) fds.push_back(pollfd{c.fd, POLLIN, 0});
  for (;;) {
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return children.size();
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0) return i;
    return children.size();
  }
}

std::string run_in_child(const std::function<std::string()>& fn) { return finish_child(start_child(fn)); }

}  // namespace sim

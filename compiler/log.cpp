// Creates the subsystem loggers on first use, at EMBER_LOG_LEVEL.
#include "compiler/log.h"

#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ember {
namespace {

// Our own table, so that a logger, once made, is found without spdlog's
// registry lock; `mu` is made anew in a forked child (a thread of the parent
// may have held it at the fork: the child's first compile would wait forever).
std::mutex mu;
std::unordered_map<std::string, std::shared_ptr<spdlog::logger>>* made = nullptr;

void after_fork_in_child() { new (&mu) std::mutex(); }

}  // namespace

spdlog::logger& logger(const char* subsystem) {
  static bool registered = (pthread_atfork(nullptr, nullptr, after_fork_in_child), true);
  (void)registered;
  std::lock_guard<std::mutex> lock(mu);
  if (!made) made = new std::unordered_map<std::string, std::shared_ptr<spdlog::logger>>();  // kept
  std::shared_ptr<spdlog::logger>& found = (*made)[subsystem];
  if (!found) {
    std::string name = std::string("ember.") + subsystem;
    found = spdlog::get(name);
    if (!found) {
      found = spdlog::stderr_color_mt(name);
      const char* level = std::getenv("EMBER_LOG_LEVEL");
      found->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
    }
  }
  return *found;
}

}  // namespace ember

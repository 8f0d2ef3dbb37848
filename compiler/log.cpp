// Creates the subsystem loggers on first use, at EMBER_LOG_LEVEL.
#include "compiler/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace ember {

spdlog::logger& logger(const char* subsystem) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string name = std::string("ember.") + subsystem;
  if (auto existing = spdlog::get(name)) return *existing;
  auto made = spdlog::stderr_color_mt(name);
  const char* level = std::getenv("EMBER_LOG_LEVEL");
  made->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
  return *made;
}

}  // namespace ember

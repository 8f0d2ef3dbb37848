// The subsystem loggers and the buffer that carries their records to Python
// (compiler/log.h).
#include "compiler/log.h"

#include <pthread.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace ember {
namespace {

constexpr size_t kKept = 10000;

// Records kept for drain_logs(); the oldest go first when it overflows.
class BufferSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::tuple<std::string, int, std::string>> take() {
    std::lock_guard<std::mutex> lock(this->mutex_);
    std::vector<std::tuple<std::string, int, std::string>> out(records_.begin(), records_.end());
    records_.clear();
    return out;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (records_.size() == kKept) records_.pop_front();
    records_.emplace_back(std::string(msg.logger_name.data(), msg.logger_name.size()),
                          static_cast<int>(msg.level),
                          std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::deque<std::tuple<std::string, int, std::string>> records_;
};

// Our own table, so that a logger, once made, is found without spdlog's
// registry lock; `mu` is made anew in a forked child (a thread of the parent
// may have held it at the fork: the child's first compile would wait forever).
std::mutex mu;
std::unordered_map<std::string, std::shared_ptr<spdlog::logger>>* made = nullptr;
std::shared_ptr<BufferSink> buffer;  // set by capture_logs()
spdlog::level::level_enum level = spdlog::level::off;
bool level_set = false;

void after_fork_in_child() { new (&mu) std::mutex(); }

spdlog::level::level_enum level_of(const std::string& name) {
  for (int l = spdlog::level::trace; l <= spdlog::level::off; ++l) {
    auto candidate = static_cast<spdlog::level::level_enum>(l);
    if (spdlog::level::to_string_view(candidate) == name) return candidate;
  }
  if (name == "warning") return spdlog::level::warn;
  throw std::invalid_argument("unknown log level '" + name +
                              "' (trace, debug, info, warning, error, critical, off)");
}

// The level a new logger gets, with mu held.
spdlog::level::level_enum current_level() {
  if (!level_set) {
    const char* env = std::getenv("EMBER_LOG_LEVEL");
    try {
      level = env && *env ? level_of(env) : spdlog::level::warn;
    } catch (const std::invalid_argument&) {
      level = spdlog::level::warn;  // Python warns about it (ember/logs.py)
    }
    level_set = true;
  }
  return level;
}

}  // namespace

spdlog::logger& logger(const char* subsystem) {
  static bool registered = (pthread_atfork(nullptr, nullptr, after_fork_in_child), true);
  (void)registered;
  std::lock_guard<std::mutex> lock(mu);
  if (!made) made = new std::unordered_map<std::string, std::shared_ptr<spdlog::logger>>();  // kept
  std::shared_ptr<spdlog::logger>& found = (*made)[subsystem];
  if (!found) {
    std::string name = std::string("ember.") + subsystem;
    if (buffer) {
      found = std::make_shared<spdlog::logger>(name, buffer);
    } else {
      found = spdlog::get(name);
      if (!found) found = spdlog::stderr_color_mt(name);
    }
    found->set_level(current_level());
  }
  return *found;
}

void set_log_level(const std::string& name) {
  spdlog::level::level_enum wanted = level_of(name);
  std::lock_guard<std::mutex> lock(mu);
  level = wanted;
  level_set = true;
  if (made)
    for (auto& [_, l] : *made) l->set_level(wanted);
}

void capture_logs() {
  std::lock_guard<std::mutex> lock(mu);
  if (buffer) return;
  buffer = std::make_shared<BufferSink>();
  if (made)
    for (auto& [_, l] : *made) {
      l->sinks().clear();
      l->sinks().push_back(buffer);
    }
}

std::vector<std::tuple<std::string, int, std::string>> drain_logs() {
  std::shared_ptr<BufferSink> sink;
  {
    std::lock_guard<std::mutex> lock(mu);
    sink = buffer;
  }
  return sink ? sink->take() : std::vector<std::tuple<std::string, int, std::string>>{};
}

}  // namespace ember

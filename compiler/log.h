// One named spdlog logger per subsystem ("frontend", "compiler", "codegen",
// "runtime"), at the level set_log_level() gives (default: EMBER_LOG_LEVEL,
// else warn). They write to stderr, or, once capture_logs() is called (the
// Python package does, at import), into a buffer that drain_logs() empties:
// ember/logs.py hands the records to Python's `logging`.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <tuple>
#include <vector>

namespace ember {

spdlog::logger& logger(const char* subsystem);

// Every logger's level, made and to be made ("trace" .. "critical", "off");
// std::invalid_argument for another name.
void set_log_level(const std::string& level);

void capture_logs();
// The captured records since the last call, oldest first: (logger name,
// spdlog level 0 = trace .. 5 = critical, message). At most 10,000 are kept.
std::vector<std::tuple<std::string, int, std::string>> drain_logs();

}  // namespace ember

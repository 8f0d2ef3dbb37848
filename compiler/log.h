// One named spdlog logger per subsystem ("frontend", "compiler", "codegen",
// "runtime"), all at the level named by EMBER_LOG_LEVEL (default: warn).
#pragma once

#include <spdlog/spdlog.h>

namespace ember {

spdlog::logger& logger(const char* subsystem);

}  // namespace ember

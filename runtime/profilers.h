// Makes code the object loader maps visible to profilers and debuggers,
// when asked (it costs a file write or a debugger hook per load):
//   EMBER_PERF_MAP=1  each function's address, size and name is appended to
//                     /tmp/perf-<pid>.map, where `perf report` looks for JIT code;
//   EMBER_GDB_JIT=1   the object is registered through GDB's JIT interface
//                     (__jit_debug_register_code), so gdb names ember's
//                     functions in backtraces and can break on them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::runtime {

struct MappedFunction {
  std::string name;
  uint64_t address, size;
};

// Announces one mapped object: its functions, and its ELF bytes with each
// section's load address (0: not loaded). Returns a handle for withdraw()
// (null when nothing was registered).
void* announce(const std::vector<MappedFunction>& functions, std::string_view elf,
               const std::vector<uint64_t>& section_addresses);
// Before the object's memory goes: unregisters it from GDB.
void withdraw(void* handle);

}  // namespace ember::runtime

// perf map files and GDB's JIT interface for loaded objects (profilers.h).
#include "runtime/profilers.h"

#include <elf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

// GDB's JIT interface (gdb/jit.h: "JIT Compilation Interface" in GDB's
// manual): gdb sets a breakpoint in __jit_debug_register_code and reads the
// in-memory object files listed in __jit_debug_descriptor.
extern "C" {
struct jit_code_entry {
  jit_code_entry* next_entry;
  jit_code_entry* prev_entry;
  const char* symfile_addr;
  uint64_t symfile_size;
};
struct jit_descriptor {
  uint32_t version;
  uint32_t action_flag;  // 1: register relevant_entry, 2: unregister it
  jit_code_entry* relevant_entry;
  jit_code_entry* first_entry;
};
__attribute__((noinline, used, visibility("default"))) void __jit_debug_register_code() {
  asm volatile("" ::: "memory");
}
__attribute__((used, visibility("default"))) jit_descriptor __jit_debug_descriptor = {1, 0, nullptr,
                                                                                     nullptr};
}

namespace ember::runtime {
namespace {

bool enabled(const char* variable) {
  const char* value = std::getenv(variable);
  return value && *value && std::strcmp(value, "0") != 0;
}

std::mutex mu;  // the perf map file and GDB's list

struct GdbEntry {
  jit_code_entry entry;
  std::string object;  // the ELF with its sections' load addresses
};

void write_perf_map(const std::vector<MappedFunction>& functions) {
  std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  if (FILE* f = std::fopen(path.c_str(), "a")) {
    for (const MappedFunction& fn : functions)
      std::fprintf(f, "%llx %llx %s\n", static_cast<unsigned long long>(fn.address),
                   static_cast<unsigned long long>(fn.size), fn.name.c_str());
    std::fclose(f);
  }
}

GdbEntry* register_with_gdb(std::string_view elf, const std::vector<uint64_t>& addresses) {
  auto* e = new GdbEntry{{}, std::string(elf)};
  Elf64_Ehdr header;
  std::memcpy(&header, e->object.data(), sizeof header);
  for (size_t i = 0; i < addresses.size() && i < header.e_shnum; ++i) {
    size_t at = header.e_shoff + i * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_addr);
    std::memcpy(e->object.data() + at, &addresses[i], sizeof(uint64_t));
  }
  e->entry.symfile_addr = e->object.data();
  e->entry.symfile_size = e->object.size();
  e->entry.next_entry = __jit_debug_descriptor.first_entry;
  if (e->entry.next_entry) e->entry.next_entry->prev_entry = &e->entry;
  __jit_debug_descriptor.first_entry = &e->entry;
  __jit_debug_descriptor.relevant_entry = &e->entry;
  __jit_debug_descriptor.action_flag = 1;
  __jit_debug_register_code();
  return e;
}

}  // namespace

void* announce(const std::vector<MappedFunction>& functions, std::string_view elf,
               const std::vector<uint64_t>& section_addresses) {
  bool perf = enabled("EMBER_PERF_MAP"), gdb = enabled("EMBER_GDB_JIT");
  if (!perf && !gdb) return nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (perf) write_perf_map(functions);
  return gdb ? register_with_gdb(elf, section_addresses) : nullptr;
}

void withdraw(void* handle) {
  if (!handle) return;
  std::lock_guard<std::mutex> lock(mu);
  auto* e = static_cast<GdbEntry*>(handle);
  if (e->entry.prev_entry) e->entry.prev_entry->next_entry = e->entry.next_entry;
  else __jit_debug_descriptor.first_entry = e->entry.next_entry;
  if (e->entry.next_entry) e->entry.next_entry->prev_entry = e->entry.prev_entry;
  __jit_debug_descriptor.relevant_entry = &e->entry;
  __jit_debug_descriptor.action_flag = 2;
  __jit_debug_register_code();
  delete e;
}

}  // namespace ember::runtime

// What the ahead-of-time tool needs of LLVM besides kernels' object code:
// the glue that gives each export its C function, LLVM's linker (lld, as a
// library: no C compiler or linker needed on the user's machine) and
// static archives. No LLVM type appears here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ember::codegen {

// One C function of a library: stores its arguments in slots and calls the
// runtime's ember_aot_invoke(library, export, isa, form, argv) (runtime/aot_abi.h).
struct GlueFunction {
  std::string name;   // its C symbol
  int32_t exp = 0;    // the export's index in the library's table
  int32_t isa = -1;   // an ISA's index, or -1: the one the library selected
  int32_t form = 0;   // runtime/aot_abi.h: kAotContiguous or kAotStrided
  // The C parameter types: "ptr", or a scalar's short name ("i64", "f32",
  // "u8", "bool"; ir/types.h).
  std::vector<std::string> params;
};

struct Glue {
  std::string stem;                  // the library: its descriptor is ember_aot_library_<stem>
  std::string table;                 // the runtime's table (aot_library.cpp)
  std::vector<std::string> entries;  // entry point symbols in aot_abi.h's order, "" for none
  std::vector<GlueFunction> functions;
};

// Object code (ELF, PIC, for any x86-64 CPU) of the descriptor, the export
// wrappers and <stem>_set_num_threads(int), <stem>_info(void) and
// <stem>_last_error(void).
std::string glue_object(const Glue& glue);

// What a shared library needs beyond the glue, which a C toolchain's
// crtbeginS.o and libc_nonshared.a would give (__dso_handle,
// pthread_atfork), and `ember_aot_library`, the descriptor under a fixed
// name for ember.load.
std::string shared_support_object(const std::string& stem);

// Links object files `inputs` (paths) into shared library `output` against
// the system's C and C++ runtime libraries (found where this process loaded
// them), exporting the symbols `exported` only. Throws std::runtime_error
// with the linker's message.
void link_shared(const std::vector<std::string>& inputs, const std::string& output,
                 const std::vector<std::string>& exported);

// A static archive (GNU ar format, with a symbol index) of object files
// (name, bytes).
std::string archive(const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace ember::codegen

// A compiled specialization: the optimized IR and its native entry point
// (this part needs no LLVM: the call path links it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "ir/ir.h"
#include "runtime/artifact.h"

namespace ember::runtime {

// The integer types a Python int argument is converted to inside a kernel:
// NumPy 2 raises OverflowError when the value does not fit them
// (uint8_array + 300), so the call path checks the value against all of them.
struct WeakIntUse {
  int param;
  ir::Scalar type;
};

class LoadedObject;

struct Kernel {
  ir::Function source;     // as the frontend built it (see source_text)
  ir::Function optimized;  // after the pipeline, Strict level (see optimized_text)
  codegen::Layout layout;
  codegen::Options options;
  codegen::Entry entry;
  std::shared_ptr<const LoadedObject> code;  // where entry points (host code only)
  std::string key;                           // Specialization::key()
  std::string artifact;                      // the compiled artifact (host code only)
  // Set when `source` and `optimized` hold only their signatures (a Kernel
  // loaded by key, artifact.h): the IR texts the artifact keeps, parsed only
  // when asked for (source_function(), optimized_function()). The call path
  // needs the signatures and the facts below, which the artifact keeps too.
  std::string source_text, optimized_text;
  std::vector<WeakIntUse> weak_int_uses;
  std::vector<bool> written;  // a @kernel's parameters that it stores into
  bool loops = false;         // a @kernel with a loop: each index may cost a lot
  // How this process got it (for reports): "compiled" (with the time of
  // ember's passes and of LLVM), "artifact" (the disk cache or a pickle:
  // no compile) or "library" (an ahead-of-time library).
  std::string origin;
  double passes_ms = 0, codegen_ms = 0;
  int vector_bits = 0;  // the widest vector registers its host code uses (0: scalar or unknown)

  std::string ir_text() const;
  std::string source_ir_text() const;
  ir::Function source_function() const;
  ir::Function optimized_function() const;
  // The dtype of the call's result: the map's, or a reduction's accumulator.
  ir::Scalar result_scalar() const {
    return options.reduction ? options.reduction->acc : optimized.result.scalar;
  }
};

// The call path's facts about a Kernel (weak_int_uses, written, loops) as
// text, and back: an artifact keeps them (field "calls").
std::string call_facts(const Kernel& kernel);
void read_call_facts(Kernel& kernel, const std::string& text);

// The Kernel of `spec` without code: ember's passes (a reduce's accumulator
// type) and what the call path reads off the IR. With `optimized`, the
// passes' result as an artifact kept it (the passes do not run).
std::shared_ptr<Kernel> prepare(const Specialization& spec,
                                std::optional<ir::Function> optimized = std::nullopt);

// The Kernel an artifact's texts describe (fields `prefix` + "spec",
// "optimized", "calls"; kernel_text.cpp: a library's table keeps them as
// "export.N.spec" ...), without ember's passes and without code: its IR
// holds its signatures, the texts are parsed when asked for. `file` names
// the source file in messages. ArtifactError for texts it cannot read.
std::shared_ptr<Kernel> kernel_from_texts(const std::map<std::string, std::string>& fields,
                                          const std::string& file,
                                          const std::string& prefix = "");

// Points kernel.entry at the entry points `at`, in codegen::entry_symbols()
// order.
void set_entries(Kernel& kernel, void* const* at);

// The specialization `kernel` was made from.
Specialization specialization_of(const Kernel& kernel);

// Maps `object` (relocatable object code) and points kernel.entry at its
// entry points, named `prefix` + codegen's suffixes; keeps `artifact`.
// Throws LoadError (object_loader.h).
void attach_code(Kernel& kernel, const std::string& prefix, std::string_view object,
                 std::string artifact);

// The casts of weak (Python int) parameters of `source` to integer types in
// `optimized` (its compiled form).
std::vector<WeakIntUse> weak_int_uses(const ir::Function& source, const ir::Function& optimized);

// Which parameters of a @kernel a store or an atomic writes to.
std::vector<bool> written_params(const ir::Function& fn);
bool has_loops(const ir::Block& body);
// Whether integer `value` (as int64 bits; `is_unsigned` for a uint64 value)
// is a value of integer type `t`.
bool int_fits(int64_t value, bool is_unsigned, ir::Scalar t);

// Compiling a Kernel needs LLVM: see runtime/compile.h (a separate library,
// loaded by Python only at the first compile).

}  // namespace ember::runtime

// Compiled artifacts: everything one specialization's compile produces, in
// one file (no LLVM here). The disk cache stores them, the ahead-of-time
// tool links them, pickling ships them; loading one runs ember's passes
// (cheap) but no LLVM optimization or code generation.
//
// Format (little-endian): "EMBERART", u32 format version, u32 field count,
// u64 payload length, the payload's SHA-256 (32 bytes), then the payload:
// each field as u32 name length, name, u64 value length, value. Fields:
//   key       the specialization's key (below), hex
//   ember     ember's version; build: its build id (a hash of its sources)
//   llvm      LLVM's version; triple: the target triple
//   cpu       the CPU the code was tuned for (LLVM's name; not checked)
//   features  the ISA features it was compiled for ("avx2,fma,..."):
//             loading checks them against this CPU (cpu_features.h)
//   spec      what the key covers besides the versions (spec_text below)
//   optimized the IR after ember's passes, with locations (a load checks
//             that its own passes give the same)
//   prefix    entry point symbols: prefix + "_contig" | "_kernel" | "_init",
//             "_reduce", "_merge", "_finish" (codegen.h gives their ABI)
//   object    relocatable ELF object code (runtime/object_loader.h)
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "codegen/codegen.h"
#include "ir/ir.h"

namespace ember::runtime {

struct Kernel;

// An artifact that cannot be used here: damaged (checksum, truncation,
// format), from another ember, LLVM or target, for another specialization,
// or compiled for features this CPU lacks (`incompatible`).
class ArtifactError : public std::runtime_error {
 public:
  ArtifactError(const std::string& what, bool incompatible = false)
      : std::runtime_error(what), incompatible(incompatible) {}
  bool incompatible;  // sound, but not for this CPU: not a reason to delete it
};

// One specialization to compile or load: the function as the frontend built
// it, how its parameters are passed, the options and a reduce's combine.
struct Specialization {
  ir::Function fn;
  codegen::Layout layout;
  codegen::Options options;
  std::optional<ir::Op> combine;

  // The canonical text of all of the above (the IR with locations: a
  // bounds error names its line).
  std::string spec_text() const;
  // SHA-256 (hex) of the versions (ember, build id, LLVM, triple) and
  // spec_text(). The values of the globals and closures the function read
  // are constants in its IR, so they are covered.
  std::string key() const;
};

// The specializations of @vectorize / @reduce (`combine`: "" or an IR
// operator name, "add") and of @kernel.
Specialization elementwise_specialization(ir::Function fn, std::vector<bool> scalar_layout,
                                          bool fastmath, const std::string& combine);
Specialization kernel_specialization(ir::Function fn, bool boundscheck, bool fastmath,
                                     std::vector<bool> unit_stride);

// Flags as "0110" and back: the spec text and the call path's facts.
std::string flag_text(const std::vector<bool>& flags);
std::vector<bool> flags_of(const std::string& text);

// ember's version, build id, LLVM's version and the target triple.
std::map<std::string, std::string> versions();

// The fields of an artifact, checked (format, checksum); ArtifactError if not.
// With `key`, also that it is the artifact of `key` made by this ember (its
// versions), as loading checks (not the CPU features: a GPU's PTX has none).
std::map<std::string, std::string> read_artifact(std::string_view bytes,
                                                 const std::string& key = "");
std::string write_artifact(const std::map<std::string, std::string>& fields);
// fields[name], or an ArtifactError saying that the field is missing.
const std::string& required(const std::map<std::string, std::string>& fields,
                            const std::string& name);

// The fields of an artifact that describe `kernel` without its code: "spec",
// "optimized" and "calls" (kernel_from_texts() reads them back), also for a
// GPU kernel, which has no artifact.
std::map<std::string, std::string> kernel_texts(const Kernel& kernel);

// Loads `bytes` as the code of `spec`: checks the versions, the key, the
// CPU features and the optimized IR, then maps the object code.
std::shared_ptr<const Kernel> load(const Specialization& spec, std::string_view bytes);

// Loads `bytes` as the artifact of key `key` without the frontend's IR: the
// specialization is read back from the artifact (its spec and IR texts;
// `file` names the source file in messages), with the same checks. The
// caller vouches that the frontend would build the IR whose key is `key`
// (the cache's source index). The source IR's expression locations are
// not kept in the text: they are not needed once the code exists.
std::shared_ptr<const Kernel> load(std::string_view bytes, const std::string& key,
                                   const std::string& file);

}  // namespace ember::runtime

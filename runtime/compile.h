// Compiling Kernels (pipeline, then the LLVM JIT) and their inspection texts.
// Linked only into the extension that carries LLVM (ember._jit).
#pragma once

#include <memory>
#include <string>

#include "runtime/kernel.h"

namespace ember::runtime {

// Runs the pass pipeline and codegen on `spec` and loads the object code;
// logs the time of each stage at debug level ("runtime" logger). The
// Kernel carries its compiled artifact (artifact.h). Without `native` only
// the passes run (no host code: a GPU specialization, whose PTX comes from
// ptx()).
std::shared_ptr<const Kernel> compile(const Specialization& spec, bool native = true);

// Object code of `kernel` (compiled or loaded) for CPU `cpu` (LLVM's -mcpu
// names: x86-64-v3), entry points named `prefix` + codegen's suffixes: what
// the ahead-of-time tool links.
codegen::ObjectCode object_for(const Kernel& kernel, const std::string& cpu,
                               const std::string& prefix);

// Optimized LLVM IR and assembly for the host, or for CPU `cpu` of the
// host's architecture (codegen.h).
std::string llvm_ir(const Kernel& kernel, const std::string& cpu = "");
std::string assembly(const Kernel& kernel, const std::string& cpu = "");
// What a report shows of `kernel`'s host code (codegen.h's Inspection).
codegen::Inspection inspection(const Kernel& kernel, const std::string& cpu = "",
                               bool debug = true);
// The same specialization for an NVIDIA GPU (`arch` "sm_NN", or "" for the
// newest LLVM knows): its PTX, and the GPU module's optimized LLVM IR.
// `strided`: the entry takes byte strides for that many axes (codegen.h).
codegen::PtxCode ptx(const Kernel& kernel, const std::string& arch, int strided = 0);
std::string gpu_llvm_ir(const Kernel& kernel, const std::string& arch);

}  // namespace ember::runtime

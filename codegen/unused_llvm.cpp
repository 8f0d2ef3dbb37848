// Only in self-contained builds (EMBER_SELF_CONTAINED, wheels), which link
// LLVM's static libraries instead of Debian's libLLVM.so: definitions for
// what those libraries reach but ember never uses, so that the extension
// carries two targets instead of twenty (52 MB instead of 112).
//   - lld's ELF driver initializes every target LLVM was built with (for
//     bitcode inputs, which ember never gives it): the targets other than
//     X86 and NVPTX are not linked, and their initializers register nothing.
//   - Debian builds Polly into LLVM's pass builder as a static extension:
//     ember does not link Polly, and its plugin registers no passes.
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/PassPlugin.h>

#define EMBER_UNUSED_TARGET(T)                 \
  extern "C" void LLVMInitialize##T##Target() {}     \
  extern "C" void LLVMInitialize##T##TargetInfo() {} \
  extern "C" void LLVMInitialize##T##TargetMC() {}   \
  extern "C" void LLVMInitialize##T##AsmPrinter() {} \
  extern "C" void LLVMInitialize##T##AsmParser() {}

EMBER_UNUSED_TARGET(AArch64)
EMBER_UNUSED_TARGET(AMDGPU)
EMBER_UNUSED_TARGET(ARM)
EMBER_UNUSED_TARGET(AVR)
EMBER_UNUSED_TARGET(BPF)
EMBER_UNUSED_TARGET(Hexagon)
EMBER_UNUSED_TARGET(Lanai)
EMBER_UNUSED_TARGET(LoongArch)
EMBER_UNUSED_TARGET(M68k)
EMBER_UNUSED_TARGET(MSP430)
EMBER_UNUSED_TARGET(Mips)
EMBER_UNUSED_TARGET(PowerPC)
EMBER_UNUSED_TARGET(RISCV)
EMBER_UNUSED_TARGET(Sparc)
EMBER_UNUSED_TARGET(SystemZ)
EMBER_UNUSED_TARGET(VE)
EMBER_UNUSED_TARGET(WebAssembly)
EMBER_UNUSED_TARGET(XCore)
EMBER_UNUSED_TARGET(Xtensa)

llvm::PassPluginLibraryInfo getPollyPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "Polly (not linked)", "none", [](llvm::PassBuilder&) {}};
}

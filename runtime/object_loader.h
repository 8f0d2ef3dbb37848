// Loads relocatable object code (ELF x86-64, as codegen emits it: PIC, small
// code model) into executable memory, without LLVM: the freshly compiled
// code and the code of a compiled artifact take the same path.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ember::runtime {

// Object code that cannot be loaded: malformed, or using something the loader
// does not support (a relocation type, TLS, constructors, a missing symbol).
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// From now on no code is unmapped: the process is exiting, and a daemon
// thread may still be running a kernel while the interpreter frees it.
void keep_code_mapped();

// The sections of one object in one mapping (code read+execute, the rest
// read-only), relocated; external symbols resolve in the process (libm,
// glibc's libmvec, which is loaded for them). Freed with the object.
class LoadedObject {
 public:
  // `direct_calls`: call external functions within reach directly (tests
  // turn it off to run the stubs).
  explicit LoadedObject(std::string_view elf, bool direct_calls = true);
  ~LoadedObject();
  LoadedObject(const LoadedObject&) = delete;
  LoadedObject& operator=(const LoadedObject&) = delete;

  // The address of a global symbol the object defines, or nullptr.
  void* symbol(const std::string& name) const;
  size_t mapped_bytes() const { return size_; }

 private:
  void* base_ = nullptr;
  size_t size_ = 0;
  void* announced_ = nullptr;  // profilers.h's handle
  std::unordered_map<std::string, void*> symbols_;
};

}  // namespace ember::runtime

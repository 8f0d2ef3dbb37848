// The x86-64 ISA features of the CPU we run on, read with cpuid/xgetbv (no
// LLVM), in LLVM's feature names: what a compiled artifact records and what
// loading one checks.
#pragma once

#include <string>
#include <vector>

namespace ember::runtime {

// Every ISA feature LLVM may use for ember's code, beyond the x86-64
// baseline (SSE2, CMOV, ...), in LLVM's names ("avx2", "avx512f", "sahf").
// Tuning flags (prefer-256-bit, fast-*) are not features: they never decide
// whether code can run.
const std::vector<std::string>& isa_feature_names();

// The features of `isa_feature_names()` this CPU has and the OS enables
// (AVX state in XCR0), sorted. EMBER_TEST_HIDE_FEATURES=avx512f,avx2 hides
// some (a test pretends to run on an older CPU).
const std::vector<std::string>& host_features();

// The ISA features among `enabled` (every target feature a compile enabled,
// LLVM's names), sorted and comma-separated ("avx2,fma,..."), as an artifact
// records them; feature_list() reads such a text back.
std::string isa_feature_text(const std::vector<std::string>& enabled);
std::vector<std::string> feature_list(const std::string& text);

// Why code compiled for `features` must not run here ("" when it may): a
// feature the host lacks, or a different widest vector ISA (an AVX2 entry on
// an AVX-512 host is compatible but would waste the host; the cache compiles
// anew instead).
std::string incompatibility(const std::vector<std::string>& features);

}  // namespace ember::runtime

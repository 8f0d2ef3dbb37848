// cpuid/xgetbv feature detection (runtime/cpu_features.h).
#include "runtime/cpu_features.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace ember::runtime {
namespace {

// A feature: its LLVM name, the cpuid leaf/subleaf, register and bit, and
// the XCR0 state bits the OS must enable for it.
struct Bit {
  const char* name;
  unsigned leaf, subleaf;
  int reg;  // 0 eax, 1 ebx, 2 ecx, 3 edx
  int bit;
  uint64_t xcr0;
};

constexpr uint64_t kAvxState = 0x6;      // SSE and AVX (YMM) state
constexpr uint64_t kAvx512State = 0xe6;  // plus opmask and both ZMM halves

constexpr Bit kBits[] = {
    {"sse3", 1, 0, 2, 0, 0},          {"pclmul", 1, 0, 2, 1, 0},
    {"ssse3", 1, 0, 2, 9, 0},         {"fma", 1, 0, 2, 12, kAvxState},
    {"cx16", 1, 0, 2, 13, 0},         {"sse4.1", 1, 0, 2, 19, 0},
    {"sse4.2", 1, 0, 2, 20, 0},       {"movbe", 1, 0, 2, 22, 0},
    {"popcnt", 1, 0, 2, 23, 0},       {"avx", 1, 0, 2, 28, kAvxState},
    {"f16c", 1, 0, 2, 29, kAvxState}, {"bmi", 7, 0, 1, 3, 0},
    {"avx2", 7, 0, 1, 5, kAvxState},  {"bmi2", 7, 0, 1, 8, 0},
    {"avx512f", 7, 0, 1, 16, kAvx512State},
    {"avx512dq", 7, 0, 1, 17, kAvx512State},
    {"adx", 7, 0, 1, 19, 0},
    {"avx512ifma", 7, 0, 1, 21, kAvx512State},
    {"avx512cd", 7, 0, 1, 28, kAvx512State},
    {"avx512bw", 7, 0, 1, 30, kAvx512State},
    {"avx512vl", 7, 0, 1, 31, kAvx512State},
    {"avx512vbmi", 7, 0, 2, 1, kAvx512State},
    {"avx512vbmi2", 7, 0, 2, 6, kAvx512State},
    {"gfni", 7, 0, 2, 8, 0},
    {"vpclmulqdq", 7, 0, 2, 10, kAvxState},
    {"avx512vnni", 7, 0, 2, 11, kAvx512State},
    {"avx512bitalg", 7, 0, 2, 12, kAvx512State},
    {"avx512vpopcntdq", 7, 0, 2, 14, kAvx512State},
    {"avx512fp16", 7, 0, 3, 23, kAvx512State},
    {"avxvnni", 7, 1, 0, 4, kAvxState},
    {"avx512bf16", 7, 1, 0, 5, kAvx512State},
    {"sahf", 0x80000001, 0, 2, 0, 0}, {"lzcnt", 0x80000001, 0, 2, 5, 0},
    {"prfchw", 0x80000001, 0, 2, 8, 0},
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::vector<std::string> detect() {
  std::vector<std::string> found;
#if defined(__x86_64__)
  unsigned max_leaf = __get_cpuid_max(0, nullptr), max_ext = __get_cpuid_max(0x80000000, nullptr);
  unsigned r[4];
  __cpuid(1, r[0], r[1], r[2], r[3]);
  uint64_t xcr0 = 0;
  if (r[2] & (1u << 27)) {  // OSXSAVE: xgetbv is allowed
    uint32_t lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<uint64_t>(hi) << 32) | lo;
  }
  for (const Bit& b : kBits) {
    if (b.leaf >= 0x80000000 ? b.leaf > max_ext : b.leaf > max_leaf) continue;
    __cpuid_count(b.leaf, b.subleaf, r[0], r[1], r[2], r[3]);
    if ((r[b.reg] >> b.bit & 1) && (xcr0 & b.xcr0) == b.xcr0) found.push_back(b.name);
  }
#endif
  if (const char* hide = std::getenv("EMBER_TEST_HIDE_FEATURES"))
    for (const std::string& name : split(hide, ','))
      found.erase(std::remove(found.begin(), found.end(), name), found.end());
  std::sort(found.begin(), found.end());
  return found;
}

bool has(const std::vector<std::string>& features, const char* name) {
  return std::find(features.begin(), features.end(), name) != features.end();
}

}  // namespace

const std::vector<std::string>& isa_feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const Bit& b : kBits) all.push_back(b.name);
    return all;
  }();
  return names;
}

const std::vector<std::string>& host_features() {
  static const std::vector<std::string> features = detect();
  return features;
}

std::string isa_feature_text(const std::vector<std::string>& enabled) {
  std::vector<std::string> isa;
  for (const std::string& f : enabled)
    if (has(isa_feature_names(), f.c_str()) && !has(isa, f.c_str())) isa.push_back(f);
  std::sort(isa.begin(), isa.end());
  std::string text;
  for (const std::string& f : isa) text += (text.empty() ? "" : ",") + f;
  return text;
}

std::vector<std::string> feature_list(const std::string& text) { return split(text, ','); }

std::string incompatibility(const std::vector<std::string>& features) {
  const std::vector<std::string>& host = host_features();
  for (const std::string& f : features)
    if (!has(host, f.c_str())) return "compiled for '" + f + "', which this CPU lacks";
  for (const char* widest : {"avx512f", "avx2"})
    if (has(host, widest) != has(features, widest))
      return std::string("compiled ") + (has(features, widest) ? "with" : "without") + " '" +
             widest + "', unlike this CPU";
  return "";
}

}  // namespace ember::runtime

// SHA-256 (FIPS 180-4): the cache key and the artifact checksum. Deterministic
// across processes and machines, unlike std::hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::runtime {

std::array<uint8_t, 32> sha256(std::string_view data);
// The same, using the x86 SHA extensions where the CPU has them only if
// `sha_extensions` (tests compare both).
std::array<uint8_t, 32> sha256(std::string_view data, bool sha_extensions);
std::string sha256_hex(std::string_view data);

}  // namespace ember::runtime

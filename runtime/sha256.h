// SHA-256 (FIPS 180-4): the cache key and the artifact checksum. Deterministic
// across processes and machines, unlike std::hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::runtime {

std::array<uint8_t, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

}  // namespace ember::runtime

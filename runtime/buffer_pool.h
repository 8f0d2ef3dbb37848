// A cache of large memory blocks for kernel outputs. Freshly mapped memory
// costs a page fault per page on first touch, often more than the kernel
// itself; blocks returned here are handed out again, already mapped, to the
// next output of the same size.
#pragma once

#include <cstddef>

namespace ember::runtime {

// Blocks smaller than this go straight to malloc/free.
inline constexpr size_t kPoolMinBytes = size_t{1} << 20;
// At most this much memory sits unused in the pool; older blocks make room
// for newer ones.
inline constexpr size_t kPoolMaxBytes = size_t{256} << 20;

void* pool_acquire(size_t bytes);            // malloc-compatible; nullptr on failure
void pool_release(void* block, size_t bytes);  // `bytes` as acquired
size_t pool_cached_bytes();

}  // namespace ember::runtime

// Internal: where the coroutine frames of trellis tasks come from.
//
// Every task costs at least two frames (its outermost task_root frame and
// the frame of its function) and every open_nursery, scope.run or awaited
// helper one more, so frames are allocated and freed at a high rate, mostly
// in a handful of sizes. A frame freed on a thread is kept in that thread's
// cache, sorted by size class, and handed out again to the next frame of
// the same class on that thread; this is several times cheaper than a trip
// through malloc, and is what keeps start_soon + join within its budget
// (see bench/spawn_bench.cpp).
//
// Thread safety: frames may be freed on a different thread from the one
// that allocated them; each thread only ever touches its own cache. The
// cache is bounded, and a thread's cache is released when the thread ends.
//
// Builds with AddressSanitizer bypass the cache, so that a use of a freed
// frame is still reported.
#pragma once

#include <cstddef>

namespace trellis::detail::frame_allocator {

// A block of at least `size` bytes, aligned for any coroutine frame. Throws
// std::bad_alloc.
void* allocate(std::size_t size);
// Gives back a block from allocate(size), with the same size.
void deallocate(void* frame, std::size_t size) noexcept;

}  // namespace trellis::detail::frame_allocator

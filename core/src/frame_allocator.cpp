// The per-thread frame cache behind trellis's coroutine frames (see
// trellis/detail/frame_allocator.hpp).

#include "trellis/detail/frame_allocator.hpp"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TRELLIS_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRELLIS_FRAME_CACHE 0
#endif
#endif
#ifndef TRELLIS_FRAME_CACHE
#define TRELLIS_FRAME_CACHE 1
#endif

namespace trellis::detail::frame_allocator {

#if TRELLIS_FRAME_CACHE

namespace {

// Size classes are 16 bytes apart. Class k holds blocks of 16k - 8 bytes:
// with glibc's malloc (8 bytes of header, 16-byte chunks) such a block fills
// its chunk exactly, so a cached frame costs no more memory than a frame
// malloc'ed at its exact size would.
constexpr std::size_t granule = 16;
constexpr std::size_t class_count = 64;  // blocks of up to 1016 bytes are cached
// What a thread may keep cached: enough for the frames of a few thousand
// tasks, small next to what those tasks used while they lived.
constexpr std::size_t max_cached_bytes = std::size_t{1} << 20;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size + 8 + granule - 1) / granule; }
constexpr std::size_t block_size(std::size_t cls) noexcept { return cls * granule - 8; }

struct free_block {
    free_block* next;
};

struct cache {
    free_block* heads[class_count] = {};
    std::size_t cached_bytes = 0;

    bool has_room(std::size_t cls) const noexcept {
        return cls < class_count && cached_bytes + block_size(cls) <= max_cached_bytes;
    }
    void push(void* frame, std::size_t cls) noexcept {
        auto* b = static_cast<free_block*>(frame);
        b->next = heads[cls];
        heads[cls] = b;
        cached_bytes += block_size(cls);
    }
};

// The fast paths reach the thread's cache through one pointer in static
// TLS (initial-exec: a single %fs-relative load, see runner.hpp's `tls`).
// Only the pointer lives there: static TLS is scarce when a library is
// loaded with dlopen, and the cache itself is over 500 bytes. Null until
// the thread first frees a frame, and again once the thread is ending.
thread_local cache* thread_cache [[gnu::tls_model("initial-exec")]] = nullptr;
// Set when the thread's cache has been released at thread exit; frames
// freed after that go straight back to operator delete.
thread_local bool thread_ending = false;

// The thread's cache itself. It has a destructor, so every access to it
// goes through an initialisation check; only the slow path touches it.
struct cache_owner {
    cache owned;
    ~cache_owner() {
        for (free_block*& head : owned.heads) {
            while (free_block* b = head) {
                head = b->next;
                ::operator delete(b);
            }
        }
        owned.cached_bytes = 0;
        thread_cache = nullptr;
        thread_ending = true;
    }
};
thread_local cache_owner owner;

// Out of line, so that the common case stays a few instructions.
[[gnu::noinline]] void deallocate_slowly(void* frame, std::size_t cls) noexcept {
    if (!thread_cache && !thread_ending) {
        thread_cache = &owner.owned;  // first use on this thread: creates the cache
        if (thread_cache->has_room(cls)) return thread_cache->push(frame, cls);
    }
    ::operator delete(frame);
}

}  // namespace

void* allocate(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (cls >= class_count) return ::operator new(size);
    if (cache* c = thread_cache) {
        if (free_block* b = c->heads[cls]) {
            c->heads[cls] = b->next;
            c->cached_bytes -= block_size(cls);
            return b;
        }
    }
    return ::operator new(block_size(cls));
}

void deallocate(void* frame, std::size_t size) noexcept {
    const std::size_t cls = class_of(size);
    cache* c = thread_cache;
    if (c && c->has_room(cls)) [[likely]]
        c->push(frame, cls);
    else
        deallocate_slowly(frame, cls);
}

#else  // no cache: every frame comes from and goes back to operator new

void* allocate(std::size_t size) { return ::operator new(size); }
void deallocate(void* frame, std::size_t) noexcept { ::operator delete(frame); }

#endif

}  // namespace trellis::detail::frame_allocator

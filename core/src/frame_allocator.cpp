// The per-thread frame cache behind trellis's coroutine frames (see
// trellis/detail/frame_allocator.hpp).

#include "trellis/detail/frame_allocator.hpp"

#include <cstdint>
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
constexpr std::uint32_t max_blocks_per_class = 1024;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size + 8 + granule - 1) / granule; }
constexpr std::size_t block_size(std::size_t cls) noexcept { return cls * granule - 8; }

struct free_block {
    free_block* next;
};

enum class cache_state : unsigned char {
    fresh,   // nothing cached yet; the cleanup at thread exit is not registered
    active,  // caching
    closed,  // the thread is ending: cache nothing more
};

// Trivially destructible on purpose: a thread_local with a destructor is
// reached through an initialisation check on every access. Cleanup at
// thread exit is registered separately, the first time a block is cached.
struct cache {
    free_block* heads[class_count];
    std::uint32_t counts[class_count];
    cache_state state;
};
thread_local cache local [[gnu::tls_model("initial-exec")]];

struct cache_cleanup {
    void arm() noexcept {}
    ~cache_cleanup() {
        for (std::size_t cls = 0; cls < class_count; ++cls) {
            while (free_block* b = local.heads[cls]) {
                local.heads[cls] = b->next;
                ::operator delete(b);
            }
            local.counts[cls] = 0;
        }
        local.state = cache_state::closed;
    }
};
thread_local cache_cleanup cleanup;

}  // namespace

void* allocate(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (cls >= class_count) return ::operator new(size);
    if (free_block* b = local.heads[cls]) {
        local.heads[cls] = b->next;
        --local.counts[cls];
        return b;
    }
    return ::operator new(block_size(cls));
}

namespace {

bool has_room(std::size_t cls) noexcept { return cls < class_count && local.counts[cls] < max_blocks_per_class; }

void push(void* frame, std::size_t cls) noexcept {
    auto* b = static_cast<free_block*>(frame);
    b->next = local.heads[cls];
    local.heads[cls] = b;
    ++local.counts[cls];
}

// Out of line, so that the common case above it stays a few instructions.
[[gnu::noinline]] void deallocate_slowly(void* frame, std::size_t cls) noexcept {
    if (local.state == cache_state::fresh && has_room(cls)) {
        local.state = cache_state::active;
        cleanup.arm();  // constructs the thread's cleanup object, so its destructor runs
        push(frame, cls);
        return;
    }
    ::operator delete(frame);
}

}  // namespace

void deallocate(void* frame, std::size_t size) noexcept {
    const std::size_t cls = class_of(size);
    if (local.state == cache_state::active && has_room(cls)) [[likely]]
        push(frame, cls);
    else
        deallocate_slowly(frame, cls);
}

#else  // no cache: every frame comes from and goes back to operator new

void* allocate(std::size_t size) { return ::operator new(size); }
void deallocate(void* frame, std::size_t) noexcept { ::operator delete(frame); }

#endif

}  // namespace trellis::detail::frame_allocator

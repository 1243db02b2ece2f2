// Internal: an entry of the runner's deadline heap.
//
// Timers live inside the objects that own them (a cancel scope, a sleeping
// task's awaiter), so arming one never allocates. The heap keeps each
// timer's index so a timer can be moved or removed in O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "trellis/clock.hpp"

namespace trellis::detail {

struct timer {
    static constexpr std::size_t not_armed = std::numeric_limits<std::size_t>::max();
    time_point when = inf;
    // Equal deadlines fire in the order they were armed.
    std::uint64_t seq = 0;
    // Invariant: heap_index == not_armed exactly when the timer is not on the
    // heap; otherwise heap[heap_index] == this.
    std::size_t heap_index = not_armed;
    // Called (on the run's thread, during a step) when the deadline passes;
    // the timer is already off the heap.
    void (*fire)(timer&) = nullptr;
    void* owner = nullptr;
    bool armed() const noexcept { return heap_index != not_armed; }
};

}  // namespace trellis::detail

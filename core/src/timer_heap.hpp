// Internal: the runner's deadline heap.
//
// A binary min-heap of timer pointers ordered by (when, seq). Each timer
// records its own position, so arming, moving and disarming are O(log n)
// and never search. The heap owns no timer; owners disarm before they die.
#pragma once

#include <cstddef>
#include <vector>

#include "trellis/detail/timer.hpp"

namespace trellis::detail {

class timer_heap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    // The earliest deadline, or inf when empty.
    time_point earliest() const noexcept { return heap_.empty() ? inf : heap_.front()->when; }
    timer* top() const noexcept { return heap_.front(); }

    // Puts t on the heap at t.when, or moves it there if already armed.
    void arm(timer& t, time_point when);
    // Takes t off the heap; does nothing if it is not armed.
    void disarm(timer& t) noexcept;
    // Checks the heap property (debug builds).
    bool valid() const noexcept;

private:
    static bool before(const timer* a, const timer* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }
    void place(std::size_t index, timer* t) noexcept {
        heap_[index] = t;
        t->heap_index = index;
    }
    void sift_up(std::size_t index) noexcept;
    void sift_down(std::size_t index) noexcept;

    std::vector<timer*> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace trellis::detail

#include "timer_heap.hpp"

namespace trellis::detail {

void timer_heap::arm(timer& t, time_point when) {
    if (t.armed()) disarm(t);
    t.when = when;
    t.seq = next_seq_++;
    heap_.push_back(&t);
    t.heap_index = heap_.size() - 1;
    sift_up(t.heap_index);
}

void timer_heap::disarm(timer& t) noexcept {
    if (!t.armed()) return;
    std::size_t index = t.heap_index;
    timer* last = heap_.back();
    heap_.pop_back();
    t.heap_index = timer::not_armed;
    if (last == &t) return;
    place(index, last);
    sift_up(index);
    sift_down(last->heap_index);
}

void timer_heap::sift_up(std::size_t index) noexcept {
    timer* t = heap_[index];
    while (index > 0) {
        std::size_t parent = (index - 1) / 2;
        if (!before(t, heap_[parent])) break;
        place(index, heap_[parent]);
        index = parent;
    }
    place(index, t);
}

void timer_heap::sift_down(std::size_t index) noexcept {
    timer* t = heap_[index];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * index + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
        if (!before(heap_[child], t)) break;
        place(index, heap_[child]);
        index = child;
    }
    place(index, t);
}

bool timer_heap::valid() const noexcept {
    for (std::size_t i = 0; i < heap_.size(); ++i) {
        if (heap_[i]->heap_index != i) return false;
        if (i > 0 && before(heap_[i], heap_[(i - 1) / 2])) return false;
    }
    return true;
}

}  // namespace trellis::detail

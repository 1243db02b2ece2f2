#include "trellis/parking_lot.hpp"

#include <cassert>

#include "runner.hpp"

namespace trellis::lowlevel {

parking_lot::~parking_lot() {
    assert(waiters_.empty() && "trellis bug or misuse: a parking_lot was destroyed with tasks still parked in it");
}

parking_lot::waiter::~waiter() {
    if (is_linked()) lot_->waiters_.remove(this);
}

void parking_lot::waiter::enqueue(trellis::detail::task_state&) { lot_->waiters_.push_back(this); }

abort_result parking_lot::waiter::abort(const std::exception_ptr&) noexcept {
    lot_->waiters_.remove(this);
    return abort_result::succeeded;
}

void parking_lot::check_thread(const char* caller) const {
    waiter* first = waiters_.front();
    if (first && trellis::detail::current_runner_or_null() != first->task_->owner)
        throw run_error(std::string(caller) +
                        ": called from a thread that is not running the waiters' trellis run; "
                        "post the call through trellis::token::run_sync_soon");
}

std::size_t parking_lot::unpark(std::size_t count) {
    check_thread("parking_lot::unpark");
    std::size_t woken = 0;
    for (; woken < count && !waiters_.empty(); ++woken) {
        waiter* w = waiters_.pop_front();
        w->task_->owner->reschedule(*w->task_, nullptr);
    }
    return woken;
}

task_handle parking_lot::unpark_one() {
    check_thread("parking_lot::unpark_one");
    waiter* w = waiters_.pop_front();
    if (!w) return {};
    w->task_->owner->reschedule(*w->task_, nullptr);
    return task_handle(w->task_);
}

std::size_t parking_lot::unpark_all() { return unpark(waiters_.size()); }

std::size_t parking_lot::repark(parking_lot& other, std::size_t count) {
    check_thread("parking_lot::repark");
    std::size_t moved = 0;
    for (; moved < count && !waiters_.empty(); ++moved) {
        waiter* w = waiters_.pop_front();
        w->lot_ = &other;
        other.waiters_.push_back(w);
    }
    return moved;
}

std::size_t parking_lot::repark_all(parking_lot& other) { return repark(other, waiters_.size()); }

}  // namespace trellis::lowlevel

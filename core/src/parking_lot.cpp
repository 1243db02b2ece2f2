#include "trellis/parking_lot.hpp"

#include <cassert>

#include "runner.hpp"

namespace trellis::lowlevel {

using trellis::detail::task_state;

parking_lot::~parking_lot() {
    assert(waiters_.empty() && "trellis: a parking_lot was destroyed with tasks still parked in it");
}

parking_lot::waiter::~waiter() {
    if (is_linked()) lot->waiters_.remove(this);
}

void parking_lot::waiter::await_suspend(std::coroutine_handle<> self) {
    task = &trellis::detail::current_task_or_throw("parking_lot::park");
    lot->waiters_.push_back(this);
    task->runner_->block(*task, self, trellis::detail::abort_ref{this, [](void* me, const std::exception_ptr&) {
                                          auto* w = static_cast<waiter*>(me);
                                          w->lot->waiters_.remove(w);
                                          return abort_result::succeeded;
                                      }});
}

void parking_lot::waiter::await_resume() { trellis::detail::finish_blocking(*task); }

void parking_lot::check_thread(const char* caller) const {
    waiter* first = waiters_.front();
    if (first && trellis::detail::current_runner_or_null() != first->task->runner_)
        throw run_error(std::string(caller) +
                        ": called from a thread that is not running the waiters' trellis run; "
                        "post the call through trellis::token::run_sync_soon");
}

std::size_t parking_lot::unpark(std::size_t count) {
    check_thread("parking_lot::unpark");
    std::size_t woken = 0;
    for (; woken < count && !waiters_.empty(); ++woken) {
        waiter* w = waiters_.pop_front();
        w->task->runner_->reschedule(*w->task, nullptr);
    }
    return woken;
}

task_handle parking_lot::unpark_one() {
    check_thread("parking_lot::unpark_one");
    waiter* w = waiters_.pop_front();
    if (!w) return {};
    w->task->runner_->reschedule(*w->task, nullptr);
    return task_handle(w->task);
}

std::size_t parking_lot::unpark_all() { return unpark(waiters_.size()); }

std::size_t parking_lot::repark(parking_lot& other, std::size_t count) {
    std::size_t moved = 0;
    for (; moved < count && !waiters_.empty(); ++moved) {
        waiter* w = waiters_.pop_front();
        w->lot = &other;
        other.waiters_.push_back(w);
    }
    return moved;
}

std::size_t parking_lot::repark_all(parking_lot& other) { return repark(other, waiters_.size()); }

}  // namespace trellis::lowlevel

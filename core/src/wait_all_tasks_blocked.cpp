#include "trellis/testing/wait_all_tasks_blocked.hpp"

#include "runner.hpp"

namespace trellis::detail {

idle_awaiter::~idle_awaiter() {
    if (waiting_) task_->owner->remove_idle_waiter(cushion_, ticket_);
}

void idle_awaiter::enqueue(task_state& task) {
    ticket_ = task.owner->add_idle_waiter(cushion_, task);
    waiting_ = true;
}

lowlevel::abort_result idle_awaiter::abort(const std::exception_ptr&) noexcept {
    task_->owner->remove_idle_waiter(cushion_, ticket_);
    waiting_ = false;
    return lowlevel::abort_result::succeeded;
}

void idle_awaiter::await_resume() {
    // The runner takes a woken waiter off its list itself.
    waiting_ = false;
    finish_blocking(*task_);
}

}  // namespace trellis::detail

namespace trellis::testing {

trellis::detail::idle_awaiter wait_all_tasks_blocked(duration cushion) {
    trellis::detail::check_timeout(cushion, "testing::wait_all_tasks_blocked");
    return trellis::detail::idle_awaiter(cushion);
}

}  // namespace trellis::testing

// Checkpoints, sleeps and idle waits: the small awaitables built directly on
// the runner.

#include "runner.hpp"
#include "trellis/checkpoint.hpp"
#include "trellis/sleep.hpp"
#include "trellis/testing/wait_all_tasks_blocked.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis {

namespace detail {

void checkpoint_awaiter::await_suspend(std::coroutine_handle<> self) {
    // Read the thread's task directly; the checked lookup (which builds the
    // error) is only for the misuse case.
    task_state* t = tls.task;
    if (!t) [[unlikely]]
        t = &current_task_or_throw(check_cancel ? "trellis::checkpoint" : "lowlevel::cancel_shielded_checkpoint");
    t->runner_->yield_current(*t, self);
}

void checkpoint_awaiter::await_resume() const {
    if (!check_cancel) return;
    task_state& t = *tls.task;
    if (scope_access::effectively_cancelled(*t.scope_)) throw_cancelled();
}

bool cancel_check_awaiter::await_ready() const {
    // As in checkpoint_awaiter::await_suspend: the checked lookup only for
    // the misuse case (sync primitives make this check on every acquire).
    task_state* t = tls.task;
    if (!t) [[unlikely]]
        t = &current_task_or_throw("trellis::checkpoint_if_cancelled");
    if (scope_access::effectively_cancelled(*t->scope_)) throw_cancelled();
    return true;
}

namespace {
void wake_sleeper(timer& alarm) {
    auto* t = static_cast<task_state*>(alarm.owner);
    t->runner_->reschedule(*t, nullptr);
}
}  // namespace

sleep_awaiter::~sleep_awaiter() {
    if (alarm.armed()) task->runner_->disarm_timer(alarm);
}

void sleep_awaiter::await_suspend(std::coroutine_handle<> self) {
    task = &current_task_or_throw("trellis::sleep");
    runner& r = *task->runner_;
    if (deadline != inf) {
        alarm.fire = &wake_sleeper;
        alarm.owner = task;
        r.arm_timer(alarm, deadline);
    }
    r.block(*task, self, abort_ref{this, [](void* self, const std::exception_ptr&) {
                                       auto* me = static_cast<sleep_awaiter*>(self);
                                       me->task->runner_->disarm_timer(me->alarm);
                                       return lowlevel::abort_result::succeeded;
                                   }});
}

}  // namespace detail

detail::sleep_awaiter sleep(duration d) {
    // A sleep that starts now and ends at a deadline: the deadline is
    // computed when the awaitable is created, which is when it is awaited in
    // `co_await sleep(d)`.
    return detail::sleep_awaiter{detail::saturating_add(current_time(), d)};
}

namespace testing::detail_idle {

void idle_awaiter::await_suspend(std::coroutine_handle<> self) {
    task = &trellis::detail::current_task_or_throw("testing::wait_all_tasks_blocked");
    ticket = task->runner_->add_idle_waiter(cushion, *task);
    waiting = true;
    task->runner_->block(*task, self, trellis::detail::abort_ref{this, [](void* self, const std::exception_ptr&) {
                                           auto* me = static_cast<idle_awaiter*>(self);
                                           me->task->runner_->remove_idle_waiter(me->cushion, me->ticket);
                                           me->waiting = false;
                                           return lowlevel::abort_result::succeeded;
                                       }});
}

idle_awaiter::~idle_awaiter() {
    if (waiting && task->phase_ == trellis::detail::task_phase::blocked)
        task->runner_->remove_idle_waiter(cushion, ticket);
}

void idle_awaiter::await_resume() {
    waiting = false;
    trellis::detail::finish_blocking(*task);
}

}  // namespace testing::detail_idle
}  // namespace trellis

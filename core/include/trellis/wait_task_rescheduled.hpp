// The lowest-level blocking primitive, on which every other blocking
// operation in trellis is built (Trio's wait_task_rescheduled).
//
//   co_await lowlevel::wait_task_rescheduled(abort_fn);
//
// suspends the current task until somebody calls lowlevel::reschedule on it.
// Before blocking, the caller records the task (lowlevel::current_task())
// wherever the waking side will find it.
//
// Cancellation: if the task is, or becomes, cancelled while blocked, the
// scheduler calls abort_fn(cancel_error) once, on the run's thread.
//  * Return abort_result::succeeded after undoing the operation (unlink the
//    waiter, disarm the timer): the task resumes and the wait throws
//    cancelled. Nobody may reschedule the task after that.
//  * Return abort_result::failed if the operation cannot be undone now: the
//    task stays blocked, and whoever finishes the operation must reschedule
//    it (passing cancel_error along if it wants the cancellation raised).
// The abort callable is stored in the awaiter, in the blocked frame; it must
// not throw.
//
// It is a checkpoint: a task already cancelled when it arrives here has
// abort_fn called at once.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>

#include "trellis/detail/task_state.hpp"
#include "trellis/task_handle.hpp"

namespace trellis::lowlevel {

template <class Abort>
    requires std::is_invocable_r_v<abort_result, Abort&, const std::exception_ptr&>
auto wait_task_rescheduled(Abort abort_fn) {
    struct awaiter {
        void trellis_awaitable() const noexcept {}
        Abort abort_fn;
        detail::task_state* task = nullptr;

        static abort_result call_abort(void* self, const std::exception_ptr& cancel) {
            return static_cast<awaiter*>(self)->abort_fn(cancel);
        }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> self) {
            task = &detail::current_task_or_throw("lowlevel::wait_task_rescheduled");
            detail::block_current(self, detail::abort_ref{this, &call_abort});
        }
        void await_resume() { detail::finish_blocking(*task); }
    };
    return awaiter{std::move(abort_fn), nullptr};
}

// Makes a task blocked in wait_task_rescheduled runnable again; its wait
// returns normally, or throws `error` if one is given. Not a checkpoint; does
// not block. Throws run_error if the task is not blocked, was already
// rescheduled, or this is not the task's run thread.
void reschedule(task_handle task, std::exception_ptr error = nullptr);

}  // namespace trellis::lowlevel

// Internal: the one way a trellis task blocks, and the one way it yields.
//
// Blocking (Trio's wait_task_rescheduled protocol). Every awaitable that
// suspends a task until something happens (a sleep, an fd, a parking lot,
// a nursery's children, wait_task_rescheduled itself) derives from
// blocking_awaiter<Self> and supplies three members:
//
//   const char* operation() const noexcept
//       the public call's name, for the misuse message outside a task;
//   void enqueue(task_state& task)
//       records the task where the waker will find it (may throw: nothing
//       has blocked yet);
//   lowlevel::abort_result abort(const std::exception_ptr& cancel) noexcept
//       called once, on the run's thread, if the task is cancelled while
//       blocked: undo enqueue and answer succeeded, or answer failed and
//       leave it to whoever completes the operation to reschedule the task.
//
// await_suspend finds the current task, enqueues it and blocks it (a task
// that is already cancelled has abort called at once, which is what makes
// every blocking call a checkpoint); await_resume raises the error that
// rescheduled the task, if any. Nothing else in trellis touches a task's
// phase or resume point.
#pragma once

#include <coroutine>
#include <exception>

#include "trellis/detail/task_state.hpp"

namespace trellis::detail {

// Blocks `task` (the running task) at `resume_point` until it is
// rescheduled; delivers a pending cancellation at once.
void block_task(task_state& task, std::coroutine_handle<> resume_point, abort_ref abort);
// Called on resumption: rethrows the error given to reschedule, if any.
[[noreturn]] void raise_resume_error(task_state& task);
// Inline, so that the throw (a cancellation, usually) starts one call away
// from the awaiting coroutine: a throw's cost grows with every frame the
// unwinder has to walk.
inline void finish_blocking(task_state& task) {
    if (task.resume_error) [[unlikely]]
        raise_resume_error(task);
}

template <class Self>
class blocking_awaiter {
public:
    void trellis_awaitable() const noexcept {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> resume_point) {
        Self& self = static_cast<Self&>(*this);
        task_ = &current_task_or_throw(self.operation());
        self.enqueue(*task_);
        block_task(*task_, resume_point, abort_ref{this, &call_abort});
    }
    void await_resume() { finish_blocking(*task_); }

protected:
    // The blocked task; set from await_suspend on.
    task_state* task_ = nullptr;

private:
    static lowlevel::abort_result call_abort(void* me, const std::exception_ptr& cancel) noexcept {
        return static_cast<Self*>(static_cast<blocking_awaiter*>(me))->abort(cancel);
    }
};

}  // namespace trellis::detail

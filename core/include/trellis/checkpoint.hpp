// Checkpoints: places where a task may be cancelled and other tasks run.
#pragma once

#include <coroutine>

#include "trellis/cancel_scope.hpp"
#include "trellis/detail/task_state.hpp"
#include "trellis/detail/thread_context.hpp"

namespace trellis {

namespace detail {
// The running task yields to the scheduler and resumes at `resume_point` in
// the next batch. Throws run_error naming `caller` outside a task.
void yield_task(std::coroutine_handle<> resume_point, const char* caller);

// The hot path of every checkpoint, inline: a lone task's checkpoint is a
// few tens of nanoseconds, and out-of-line calls were a large share of it.
struct [[nodiscard("co_await the checkpoint: on its own the call does nothing")]] checkpoint_awaiter {
    void trellis_awaitable() const noexcept {}
    bool check_cancel;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) const {
        yield_task(self, check_cancel ? "trellis::checkpoint" : "lowlevel::cancel_shielded_checkpoint");
    }
    void await_resume() const {
        if (!check_cancel) return;
        task_state& t = *tls.task;
        ++t.cancel_points;
        if (scope_access::effectively_cancelled(*t.scope)) [[unlikely]]
            throw_cancelled();
    }
};

struct [[nodiscard("co_await the checkpoint: on its own the call does nothing")]] cancel_check_awaiter {
    void trellis_awaitable() const noexcept {}
    bool await_ready() const {
        task_state* t = tls.task;
        if (!t) [[unlikely]]
            t = &current_task_or_throw("trellis::checkpoint_if_cancelled");
        ++t->cancel_points;
        if (scope_access::effectively_cancelled(*t->scope)) [[unlikely]]
            throw_cancelled();
        return true;
    }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};
}  // namespace detail

// co_await checkpoint(): lets other tasks run, then throws cancelled if the
// task is inside a cancelled scope. The cheapest full checkpoint. Not
// thread-safe: call it in a task. Throws run_error outside a task.
inline detail::checkpoint_awaiter checkpoint() noexcept { return {true}; }

// co_await checkpoint_if_cancelled(): throws cancelled if the task is inside
// a cancelled scope; otherwise does nothing (other tasks do not run), so it
// is half a checkpoint. Throws run_error outside a task.
inline detail::cancel_check_awaiter checkpoint_if_cancelled() noexcept { return {}; }

namespace lowlevel {
// co_await cancel_shielded_checkpoint(): lets other tasks run but never
// throws cancelled. Throws run_error outside a task.
inline detail::checkpoint_awaiter cancel_shielded_checkpoint() noexcept { return {false}; }
}  // namespace lowlevel

}  // namespace trellis

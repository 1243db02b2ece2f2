// Checkpoints: places where a task may be cancelled and other tasks run.
#pragma once

#include <coroutine>

#include "trellis/detail/task_state.hpp"

namespace trellis {

namespace detail {
struct checkpoint_awaiter {
    void trellis_awaitable() const noexcept {}
    bool check_cancel;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self);
    void await_resume() const;
};
struct cancel_check_awaiter {
    void trellis_awaitable() const noexcept {}
    bool await_ready() const;  // throws cancelled when cancelled
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};
}  // namespace detail

// co_await checkpoint(): lets other tasks run, then throws cancelled if the
// task is inside a cancelled scope. The cheapest full checkpoint. Throws
// run_error outside a task.
inline detail::checkpoint_awaiter checkpoint() noexcept { return {true}; }

// co_await checkpoint_if_cancelled(): throws cancelled if the task is inside
// a cancelled scope; otherwise does nothing (other tasks do not run). Throws
// run_error outside a task.
inline detail::cancel_check_awaiter checkpoint_if_cancelled() noexcept { return {}; }

namespace lowlevel {
// co_await cancel_shielded_checkpoint(): lets other tasks run but never
// throws cancelled. Throws run_error outside a task.
inline detail::checkpoint_awaiter cancel_shielded_checkpoint() noexcept { return {false}; }
}  // namespace lowlevel

}  // namespace trellis

// trellis::testing::wait_all_tasks_blocked: wait until everything else is
// stuck, to test "and then nothing else happens" without sleeping.
#pragma once

#include <coroutine>
#include <cstdint>

#include "trellis/clock.hpp"
#include "trellis/detail/task_state.hpp"

namespace trellis::testing {

namespace detail_idle {
struct idle_awaiter {
    void trellis_awaitable() const noexcept {}
    duration cushion;
    trellis::detail::task_state* task = nullptr;
    std::uint64_t ticket = 0;
    bool waiting = false;
    ~idle_awaiter();  // leaves the waiter list if the frame dies while waiting
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self);
    void await_resume();
};
}  // namespace detail_idle

// co_await wait_all_tasks_blocked(cushion): blocks until every other task in
// the run has been blocked for `cushion` of real time with nothing runnable
// and no I/O arriving. Waiters with the smallest cushion wake first; a wake
// of the run by another thread or the host does not count as idleness. A
// checkpoint. Throws run_error outside a task.
inline detail_idle::idle_awaiter wait_all_tasks_blocked(duration cushion = duration::zero()) noexcept {
    return {cushion};
}

}  // namespace trellis::testing

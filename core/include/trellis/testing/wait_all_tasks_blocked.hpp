// trellis::testing::wait_all_tasks_blocked: wait until everything else is
// stuck, to test "and then nothing else happens" without sleeping.
#pragma once

#include <cstdint>

#include "trellis/clock.hpp"
#include "trellis/detail/blocking.hpp"

namespace trellis {

namespace detail {
class [[nodiscard("co_await wait_all_tasks_blocked(): on its own the call does nothing")]] idle_awaiter
    : public blocking_awaiter<idle_awaiter> {
public:
    explicit idle_awaiter(duration cushion) noexcept : cushion_(cushion) {}
    ~idle_awaiter();  // leaves the waiter list if the frame dies while waiting

    const char* operation() const noexcept { return "testing::wait_all_tasks_blocked"; }
    void enqueue(task_state& task);
    lowlevel::abort_result abort(const std::exception_ptr&) noexcept;
    void await_resume();

private:
    duration cushion_;
    std::uint64_t ticket_ = 0;
    // Invariant: true exactly while the runner lists this waiter.
    bool waiting_ = false;
};
}  // namespace detail

namespace testing {
// co_await wait_all_tasks_blocked(cushion): blocks until every other task in
// the run has been blocked for `cushion` of real time with nothing runnable
// and no I/O arriving. Waiters with the smallest cushion wake first; a wake
// of the run by another thread or the host does not count as idleness. A
// checkpoint. Throws std::invalid_argument if `cushion` is negative,
// run_error outside a task.
trellis::detail::idle_awaiter wait_all_tasks_blocked(duration cushion = duration::zero());
}  // namespace testing

}  // namespace trellis

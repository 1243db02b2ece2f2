// Sleeping: sleep, sleep_until, sleep_forever.
//
// All three are checkpoints, even when they do not block (a sleep of zero or
// a past deadline still lets other tasks run and still raises cancelled in a
// cancelled scope). Time is the run's clock (see clock.hpp): under a
// testing::mock_clock, sleeps end when virtual time reaches them.
#pragma once

#include <chrono>
#include <coroutine>

#include "trellis/clock.hpp"
#include "trellis/detail/task_state.hpp"
#include "trellis/detail/timer.hpp"

namespace trellis {

namespace detail {
struct sleep_awaiter {
    void trellis_awaitable() const noexcept {}
    time_point deadline;
    timer alarm{};
    task_state* task = nullptr;
    ~sleep_awaiter();  // disarms the timer if the frame dies mid-sleep (abandoned run)
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self);
    void await_resume() { finish_blocking(*task); }
};
}  // namespace detail

// Sleeps until the run's clock reaches `deadline` (inf: forever). A
// checkpoint. Cancellation ends the sleep with cancelled. Throws run_error
// outside a task.
inline detail::sleep_awaiter sleep_until(time_point deadline) noexcept { return {deadline}; }

// Sleeps for `d` (rounded up to whole nanoseconds; zero or negative sleeps
// are plain checkpoints). Throws run_error outside a task.
detail::sleep_awaiter sleep(duration d);
template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) {
    return sleep(std::chrono::ceil<duration>(d));
}

// Sleeps until cancelled. A checkpoint. Throws run_error outside a task.
inline detail::sleep_awaiter sleep_forever() noexcept { return {inf}; }

}  // namespace trellis

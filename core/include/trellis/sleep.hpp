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
#include "trellis/detail/blocking.hpp"
#include "trellis/detail/timer.hpp"

namespace trellis {

namespace detail {
// Which public call made a sleep_awaiter: the misuse message names it.
enum class sleep_call { sleep, sleep_until, sleep_forever };

template <sleep_call Call>
class [[nodiscard("co_await the sleep: on its own the call does nothing")]] sleep_awaiter
    : public blocking_awaiter<sleep_awaiter<Call>> {
public:
    explicit sleep_awaiter(time_point deadline) noexcept : deadline_(deadline) {}
    ~sleep_awaiter();  // disarms the timer if the frame dies mid-sleep (abandoned run)

    const char* operation() const noexcept {
        if constexpr (Call == sleep_call::sleep) return "trellis::sleep";
        if constexpr (Call == sleep_call::sleep_until) return "trellis::sleep_until";
        if constexpr (Call == sleep_call::sleep_forever) return "trellis::sleep_forever";
    }
    void enqueue(task_state& task);
    lowlevel::abort_result abort(const std::exception_ptr&) noexcept;

private:
    time_point deadline_;
    // Invariant: armed exactly while the task sleeps towards a finite deadline.
    timer alarm_{};
};
// Defined in sleep.cpp for these three.
extern template class sleep_awaiter<sleep_call::sleep>;
extern template class sleep_awaiter<sleep_call::sleep_until>;
extern template class sleep_awaiter<sleep_call::sleep_forever>;
}  // namespace detail

// Sleeps until the run's clock reaches `deadline` (inf: forever; a deadline
// already past makes it a plain checkpoint). A checkpoint. Cancellation
// ends the sleep with cancelled. Throws run_error outside a task.
inline detail::sleep_awaiter<detail::sleep_call::sleep_until> sleep_until(time_point deadline) noexcept {
    return detail::sleep_awaiter<detail::sleep_call::sleep_until>(deadline);
}

// Sleeps for `d` (rounded up to whole nanoseconds; zero is a plain
// checkpoint). A checkpoint. Cancellation ends the sleep with cancelled.
// Throws std::invalid_argument if `d` is negative (as Trio raises
// ValueError), run_error outside a task.
detail::sleep_awaiter<detail::sleep_call::sleep> sleep(duration d);
template <class Rep, class Period>
detail::sleep_awaiter<detail::sleep_call::sleep> sleep(std::chrono::duration<Rep, Period> d) {
    return sleep(std::chrono::ceil<duration>(d));
}

// Sleeps until cancelled. A checkpoint. Throws run_error outside a task.
inline detail::sleep_awaiter<detail::sleep_call::sleep_forever> sleep_forever() noexcept {
    return detail::sleep_awaiter<detail::sleep_call::sleep_forever>(inf);
}

}  // namespace trellis

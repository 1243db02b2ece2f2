// trellis::testing::assert_checkpoints / assert_no_checkpoints: check that a
// piece of async code is (or is not) a checkpoint, as Trio's helpers of the
// same names do.
//
//   co_await testing::assert_checkpoints(lock_and_release, std::ref(lk));
//   co_await testing::assert_no_checkpoints(try_take, std::ref(ch));
//
// A checkpoint both lets other tasks run and checks for cancellation; the
// helpers count both in the running task while fn(args...) runs (in this
// task: work fn spawns into other tasks does not count).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "trellis/detail/task_state.hpp"
#include "trellis/task.hpp"
#include "trellis/task_handle.hpp"

namespace trellis::detail {
struct checkpoint_counts {
    std::uint32_t schedule;
    std::uint32_t cancel;
    bool operator==(const checkpoint_counts&) const = default;
};
inline checkpoint_counts current_checkpoint_counts() {
    const task_state& t = *lowlevel::current_task().state();
    return {t.schedule_points, t.cancel_points};
}
}  // namespace trellis::detail

namespace trellis::testing {

// What the helpers throw when the code did not behave as asserted.
class assertion_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Runs fn(args...) in this task and returns its value. Throws
// assertion_error if it returned without both yielding to the scheduler and
// checking for cancellation at least once; its own errors pass through
// unchecked. Whether it is a checkpoint is the point. Throws run_error
// outside a task.
template <class F, class... A>
auto assert_checkpoints(F fn, A... args) -> task<trellis::detail::async_result_t<F, A...>> {
    static_assert(trellis::detail::check_async_callable<F, A...>());
    const auto before = trellis::detail::current_checkpoint_counts();
    auto result = co_await trellis::detail::capture_call(std::move(fn), std::move(args)...);
    const auto after = trellis::detail::current_checkpoint_counts();
    if (!result.has_error() && (after.schedule == before.schedule || after.cancel == before.cancel))
        throw assertion_error("testing::assert_checkpoints: the code returned without a checkpoint");
    co_return result.unwrap();
}

// Runs fn(args...) in this task and returns its value or rethrows its error.
// Throws assertion_error instead if, either way, it yielded to the scheduler
// or checked for cancellation. Throws run_error outside a task.
template <class F, class... A>
auto assert_no_checkpoints(F fn, A... args) -> task<trellis::detail::async_result_t<F, A...>> {
    static_assert(trellis::detail::check_async_callable<F, A...>());
    const auto before = trellis::detail::current_checkpoint_counts();
    auto result = co_await trellis::detail::capture_call(std::move(fn), std::move(args)...);
    if (trellis::detail::current_checkpoint_counts() != before)
        throw assertion_error("testing::assert_no_checkpoints: the code executed a checkpoint");
    co_return result.unwrap();
}

}  // namespace trellis::testing

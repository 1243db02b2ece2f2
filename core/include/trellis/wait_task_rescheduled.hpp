// The lowest-level blocking primitive, on which every other blocking
// operation in trellis is built (Trio's wait_task_rescheduled).
//
//   co_await lowlevel::wait_task_rescheduled(abort_fn);            // returns nothing
//   int v = co_await lowlevel::wait_task_rescheduled<int>(abort_fn);
//
// suspends the current task until somebody calls lowlevel::reschedule on it,
// and returns what reschedule handed over: nothing, a value of type T, or an
// error that the wait throws. Before blocking, the caller records the task
// (lowlevel::current_task()) wherever the waking side will find it.
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
// abort_fn called at once. Throws run_error outside a task.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "trellis/detail/blocking.hpp"
#include "trellis/detail/task_state.hpp"
#include "trellis/outcome.hpp"
#include "trellis/task_handle.hpp"

namespace trellis::detail {
// Checks that `task` may be rescheduled from this thread now, handing over
// an error (with_error) or else a value of `value_type` (null: no value);
// returns the task's value slot, if it has one. Throws run_error naming
// what is wrong.
resume_slot* check_reschedule(task_state* task, const std::type_info* value_type, bool with_error);
// Reschedules a task that check_reschedule accepted; its value, if any, is
// already in its slot.
void reschedule_checked(task_state* task, std::exception_ptr error);
}  // namespace trellis::detail

namespace trellis::lowlevel {

template <class T = void, class Abort>
    requires std::is_invocable_r_v<abort_result, Abort&, const std::exception_ptr&>
auto wait_task_rescheduled(Abort abort_fn) {
    struct [[nodiscard("co_await the wait: on its own the call does nothing")]] awaiter
        : detail::blocking_awaiter<awaiter> {
        Abort abort_fn;
        // Where reschedule puts the value (unused for T = void).
        std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
        detail::resume_slot slot{};

        explicit awaiter(Abort&& fn) : abort_fn(std::move(fn)) {}
        const char* operation() const noexcept { return "lowlevel::wait_task_rescheduled"; }
        void enqueue(detail::task_state& task) noexcept {
            if constexpr (!std::is_void_v<T>) {
                slot = {&typeid(T), &value};
                task.value_slot = &slot;
            }
        }
        abort_result abort(const std::exception_ptr& cancel) noexcept {
            const abort_result result = abort_fn(cancel);
            if (result == abort_result::succeeded) this->task_->value_slot = nullptr;
            return result;
        }
        T await_resume() {
            detail::finish_blocking(*this->task_);
            if constexpr (!std::is_void_v<T>) return std::move(*value);
        }
    };
    return awaiter{std::move(abort_fn)};
}

// Makes a task blocked in wait_task_rescheduled runnable again; its wait
// returns normally, or throws `error` if one is given. Not a checkpoint; does
// not block. Throws run_error if the task is not blocked, was already
// rescheduled, waits for a value (use the outcome form), or this is not the
// task's run thread.
void reschedule(task_handle task, std::exception_ptr error = nullptr);

// The same, handing over an outcome: wait_task_rescheduled<T> returns its
// value or throws its error. Throws run_error, as above, if the task waits
// for another type (or for no value, when T is not void), or the outcome is
// empty.
template <class T>
void reschedule(task_handle task, outcome<T> result) {
    detail::task_state* t = task.state();
    if (result.has_error()) {
        // An error can end any wait, whatever value it expected.
        detail::check_reschedule(t, nullptr, true);
        detail::reschedule_checked(t, result.error());
        return;
    }
    if (!result.has_value())
        throw run_error("lowlevel::reschedule: the outcome holds neither a value nor an error");
    if constexpr (std::is_void_v<T>) {
        detail::check_reschedule(t, nullptr, false);
    } else {
        detail::resume_slot* slot = detail::check_reschedule(t, &typeid(T), false);
        static_cast<std::optional<T>*>(slot->storage)->emplace(result.unwrap());
    }
    detail::reschedule_checked(t, nullptr);
}

}  // namespace trellis::lowlevel

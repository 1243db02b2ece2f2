// trellis::cancel_scope and the timeouts built on it.
//
// A cancel_scope wraps a piece of work (scope.run(fn, args...)). Cancelling
// the scope (cancel(), or its deadline passing) makes every checkpoint inside
// it, in this task and in tasks of nurseries opened inside it, throw
// trellis::cancelled, again and again until control leaves the scope, where
// the scope catches it. A shielded scope hides the cancellation of scopes
// outside it from the work inside it.
//
// Ownership and lifetime: the caller owns the scope object; it must outlive
// the run() call that enters it. A scope is entered at most once; it may be
// created, configured and even cancelled before it is entered (the work then
// sees the cancellation at its first checkpoint).
// Threads: every member must be called on the run's thread (in a task, or in
// a host callback of a guest run). From elsewhere they throw run_error; post
// through a token instead.
#pragma once

#include <optional>

#include "trellis/clock.hpp"
#include "trellis/detail/intrusive_list.hpp"
#include "trellis/detail/task_state.hpp"
#include "trellis/detail/timer.hpp"

namespace trellis {

namespace detail {
struct in_scope_tag;
struct scope_child_tag;
struct scope_access;
}  // namespace detail

class cancel_scope : public detail::list_node<detail::scope_child_tag> {
public:
    // A scope with no deadline and no shield.
    cancel_scope() noexcept;
    explicit cancel_scope(time_point deadline, bool shield = false) noexcept;
    cancel_scope(const cancel_scope&) = delete;
    cancel_scope& operator=(const cancel_scope&) = delete;
    // A scope is destroyed while entered only when its run is abandoned (the
    // host loop died); it then unlinks itself quietly.
    ~cancel_scope();

    // The deadline (trellis::inf when none). Not a checkpoint.
    time_point deadline() const noexcept { return timer_.when; }
    // Moves the deadline; while the scope is entered the change takes effect
    // at once (an earlier deadline that has passed cancels at the next
    // scheduling step). Not a checkpoint. Throws run_error from another
    // thread.
    void set_deadline(time_point deadline);

    bool shield() const noexcept { return shield_; }
    // Shields (or unshields) the work inside from outer cancellations. Not a
    // checkpoint. Throws run_error from another thread.
    void set_shield(bool shield);

    // Cancels the scope. Idempotent. Not a checkpoint. Before entry it
    // pre-cancels; after exit it only makes cancel_called() true. Throws
    // run_error from another thread.
    void cancel();
    // True once cancel() was called (before, during or after the scope's
    // life) or its deadline has passed, as in Trio: while the scope is
    // entered or not yet entered, a deadline that has passed counts even if
    // the scheduler has not processed it yet (and this call cancels the
    // scope then). Not a checkpoint; never throws (outside a run it reports
    // only cancel()).
    bool cancel_called() const noexcept;
    // True if the scope caught a cancelled exception when it exited.
    bool cancelled_caught() const noexcept { return cancelled_caught_; }

    // Runs fn(args...) inside the scope: co_await scope.run(fn, args...).
    // Returns nothing for a void fn, else std::optional holding fn's value
    // (empty when the scope caught a cancellation). Whether it is a
    // checkpoint depends on fn. Rethrows fn's errors, except the cancelled
    // that this scope's own cancellation caused. Throws run_error if the
    // scope was entered before.
    template <class F, class... A>
    auto run(F fn, A... args)
        -> task<std::conditional_t<std::is_void_v<detail::async_result_t<F, A...>>, void,
                                   std::optional<detail::async_result_t<F, A...>>>>;

private:
    friend struct detail::scope_access;

    detail::runner* runner_ = nullptr;
    // The enclosing scope while entered; the scope tree is the cancellation
    // tree: a task's innermost scope is its cancel status.
    cancel_scope* parent_ = nullptr;
    // Invariant (while entered): children_ holds every entered scope whose
    // parent_ is this; tasks_ every task whose innermost scope is this.
    detail::intrusive_list<cancel_scope, detail::scope_child_tag> children_;
    detail::intrusive_list<detail::task_state, detail::in_scope_tag> tasks_;
    // The deadline; on the runner's deadline heap while entered and finite.
    detail::timer timer_;
    enum class stage : unsigned char { fresh, entered, exited } stage_ = stage::fresh;
    bool shield_ = false;
    bool cancel_called_ = false;
    bool cancelled_caught_ = false;
    // Invariant: effectively_cancelled_ == cancel_called_ ||
    //   (parent_ && parent_->effectively_cancelled_ && !shield_).
    bool effectively_cancelled_ = false;
};

namespace detail {
struct scope_access {
    // Enters `scope` in the current task. Throws run_error if already used.
    static void enter(cancel_scope& scope, const char* caller);
    // Leaves `scope` with the error the body ended with; returns the error
    // to propagate (null when the scope caught a cancellation or there was
    // none).
    static std::exception_ptr exit(cancel_scope& scope, std::exception_ptr error) noexcept;
    // Recomputes effectively_cancelled_ below `scope` and delivers
    // cancellation to blocked tasks that became cancelled.
    static void recalculate(cancel_scope& scope);
    static void fire_deadline(timer& t);
    static cancel_scope* parent(const cancel_scope& s) noexcept { return s.parent_; }
    static bool effectively_cancelled(const cancel_scope& s) noexcept { return s.effectively_cancelled_; }
    static void attach_task(cancel_scope& s, task_state& t) noexcept;
    static void detach_task(cancel_scope& s, task_state& t) noexcept;
    // Re-homes every child scope of `from`, and every task on it except
    // `keep`, under `to` (task_status::started), delivering `to`'s
    // cancellation to what moved.
    static void move_children(cancel_scope& from, cancel_scope& to, task_state* keep);
    // Makes `scope` the entered, never-cancelled root scope of a run.
    static void make_root(cancel_scope& scope, runner& r) noexcept;
};
}  // namespace detail

template <class F, class... A>
auto cancel_scope::run(F fn, A... args)
    -> task<std::conditional_t<std::is_void_v<detail::async_result_t<F, A...>>, void,
                               std::optional<detail::async_result_t<F, A...>>>> {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>) {
        using R = detail::async_result_t<F, A...>;
        detail::scope_access::enter(*this, "cancel_scope::run");
        auto result = co_await detail::capture_call(std::move(fn), std::move(args)...);
        if (auto error = detail::scope_access::exit(*this, result.error())) std::rethrow_exception(error);
        if constexpr (!std::is_void_v<R>) {
            if (result.has_value()) co_return std::optional<R>(result.unwrap());
            co_return std::nullopt;
        }
    }
}

// Runs fn(args...) in a scope whose deadline is `deadline`. For a void fn,
// returns true if fn finished and false if the deadline cut it short; for
// other fns, the value, or std::nullopt if cut short. Whether it is a
// checkpoint depends on fn. Rethrows fn's errors.
template <class F, class... A>
auto move_on_at(time_point deadline, F fn, A... args)
    -> task<std::conditional_t<std::is_void_v<detail::async_result_t<F, A...>>, bool,
                               std::optional<detail::async_result_t<F, A...>>>> {
    cancel_scope scope(deadline);
    if constexpr (std::is_void_v<detail::async_result_t<F, A...>>) {
        co_await scope.run(std::move(fn), std::move(args)...);
        co_return !scope.cancelled_caught();
    } else {
        co_return co_await scope.run(std::move(fn), std::move(args)...);
    }
}


// Runs fn(args...) with a deadline and returns its value; throws
// too_slow_error if the deadline cut it short. Rethrows fn's errors.
template <class F, class... A>
auto fail_at(time_point deadline, F fn, A... args) -> task<detail::async_result_t<F, A...>> {
    using R = detail::async_result_t<F, A...>;
    cancel_scope scope(deadline);
    if constexpr (std::is_void_v<R>) {
        co_await scope.run(std::move(fn), std::move(args)...);
        if (scope.cancelled_caught()) throw too_slow_error();
    } else {
        auto value = co_await scope.run(std::move(fn), std::move(args)...);
        if (scope.cancelled_caught()) throw too_slow_error();
        co_return std::move(*value);
    }
}

namespace detail {
template <class F, class... A>
auto move_on_after_started(duration timeout, F fn, A... args)
    -> task<std::conditional_t<std::is_void_v<async_result_t<F, A...>>, bool,
                               std::optional<async_result_t<F, A...>>>> {
    co_return co_await move_on_at(saturating_add(current_time(), timeout), std::move(fn), std::move(args)...);
}
template <class F, class... A>
auto fail_after_started(duration timeout, F fn, A... args) -> task<async_result_t<F, A...>> {
    co_return co_await fail_at(saturating_add(current_time(), timeout), std::move(fn), std::move(args)...);
}
}  // namespace detail

// move_on_at(current_time() + timeout, fn, args...), with the deadline taken
// when the returned task starts. Throws std::invalid_argument at once if
// `timeout` is negative (as Trio raises ValueError).
template <class F, class... A>
auto move_on_after(duration timeout, F fn, A... args)
    -> task<std::conditional_t<std::is_void_v<detail::async_result_t<F, A...>>, bool,
                               std::optional<detail::async_result_t<F, A...>>>> {
    detail::check_timeout(timeout, "trellis::move_on_after");
    return detail::move_on_after_started(timeout, std::move(fn), std::move(args)...);
}

// fail_at(current_time() + timeout, fn, args...), with the deadline taken
// when the returned task starts. Throws std::invalid_argument at once if
// `timeout` is negative.
template <class F, class... A>
auto fail_after(duration timeout, F fn, A... args) -> task<detail::async_result_t<F, A...>> {
    detail::check_timeout(timeout, "trellis::fail_after");
    return detail::fail_after_started(timeout, std::move(fn), std::move(args)...);
}

// The deadline that currently applies to this task: the earliest deadline of
// the scopes it is inside, up to the nearest shield; neg_inf if the task is
// already effectively cancelled, inf if there is none. Not a checkpoint.
// Throws run_error outside a task.
time_point current_effective_deadline();

}  // namespace trellis

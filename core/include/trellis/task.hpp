// trellis::task<T>: the coroutine type of every trellis async function.
//
// A task<T> is lazy and move-only: calling an async function only creates its
// frame; nothing runs until the task is co_awaited, and then it runs as part
// of the awaiting trellis task (same cancel scopes, same task-local values),
// handing control back with symmetric transfer when it finishes. The task
// object owns the frame and destroys it, finished or not.
//
// T may be void, a value type or a move-only type; references are not allowed
// (return a pointer or std::reference_wrapper if you must).
//
// Inside a task<T> only trellis awaitables may be co_awaited: a foreign
// awaitable would resume the coroutine behind the scheduler's back. The check
// is at compile time.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "trellis/detail/frame_allocator.hpp"
#include "trellis/errors.hpp"
#include "trellis/outcome.hpp"

namespace trellis {

template <class T = void>
class task;

namespace detail {

// An awaitable type opts in to being awaited inside trellis tasks by
// declaring a member `void trellis_awaitable() const noexcept {}` (a member
// function: local awaiter classes may not have static members, and unused
// local typedefs draw warnings).
template <class A>
concept trellis_awaitable = requires(const std::remove_cvref_t<A>& a) { a.trellis_awaitable(); };

class task_promise_base {
public:
    // Frames come from the per-thread frame cache (see frame_allocator.hpp).
    static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { frame_allocator::deallocate(frame, size); }

    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) const noexcept {
            return self.promise().continuation;
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }

    void unhandled_exception() noexcept { error = std::current_exception(); }

    template <class A>
    A&& await_transform(A&& awaitable) const noexcept {
        static_assert(trellis_awaitable<A>,
                      "trellis: only trellis awaitables (trellis::task, trellis::sleep, "
                      "lowlevel::wait_task_rescheduled, ...) may be co_awaited inside a "
                      "trellis::task; a foreign awaitable would resume the task outside the "
                      "scheduler");
        return std::forward<A>(awaitable);
    }

    std::coroutine_handle<> continuation;
    std::exception_ptr error;
};

template <class T>
class task_promise : public task_promise_base {
public:
    task<T> get_return_object() noexcept;

    template <class U>
        requires std::is_constructible_v<T, U&&>
    void return_value(U&& value) {
        value_.emplace(std::forward<U>(value));
    }

    outcome<T> take_outcome() {
        if (error) return outcome<T>::from_error(std::move(error));
        return outcome<T>::from_value(std::move(*value_));
    }
    T take_value() {
        if (error) std::rethrow_exception(std::move(error));
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
};

template <>
class task_promise<void> : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}

    outcome<void> take_outcome() {
        if (error) return outcome<void>::from_error(std::move(error));
        return outcome<void>::from_value();
    }
    void take_value() {
        if (error) std::rethrow_exception(std::move(error));
    }
};

template <class T>
struct task_access;

}  // namespace detail

template <class T>
class [[nodiscard("co_await the task: on its own the call does nothing")]] task {
    static_assert(!std::is_reference_v<T>, "trellis::task<T>: T may not be a reference");

public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;
    void trellis_awaitable() const noexcept {}

    task() noexcept = default;
    task(task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            if (frame_) frame_.destroy();
            frame_ = std::exchange(other.frame_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (frame_) frame_.destroy();
    }

    // True if this task owns a coroutine frame (it was not moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

    // Runs the task as part of the awaiting trellis task and returns its value
    // or rethrows its exception. Whether this is a checkpoint depends on the
    // task's body. Awaiting an empty task throws run_error.
    auto operator co_await() && {
        struct awaiter {
            void trellis_awaitable() const noexcept {}
            std::coroutine_handle<promise_type> frame;
            bool await_ready() const {
                if (!frame) throw run_error("co_await on an empty (moved-from) trellis::task");
                return false;
            }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
                frame.promise().continuation = caller;
                return frame;
            }
            T await_resume() { return frame.promise().take_value(); }
        };
        return awaiter{frame_};
    }

private:
    explicit task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}
    friend class detail::task_promise<T>;
    friend struct detail::task_access<T>;

    std::coroutine_handle<promise_type> frame_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

template <class T>
struct task_access {
    static std::coroutine_handle<task_promise<T>> frame(const task<T>& t) noexcept { return t.frame_; }
};

// What capture() and capture_call() return: runs the owned task and hands
// back its outcome, or hands back an error that arose before any task could
// run (the call that should have made it threw, or the task is empty).
template <class T>
struct capture_awaiter {
    void trellis_awaitable() const noexcept {}
    task<T> owned;
    std::exception_ptr early;
    bool await_ready() {
        if (!early && !owned)
            early = std::make_exception_ptr(run_error("co_await on an empty (moved-from) trellis::task"));
        return early != nullptr;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        auto frame = task_access<T>::frame(owned);
        frame.promise().continuation = caller;
        return frame;
    }
    outcome<T> await_resume() {
        if (early) return outcome<T>::from_error(std::move(early));
        return task_access<T>::frame(owned).promise().take_outcome();
    }
};

// co_await capture(std::move(t)) runs t like co_await t does, but hands back
// its outcome instead of rethrowing. Scopes and nurseries use it to inspect a
// body's error without paying for an extra throw.
template <class T>
capture_awaiter<T> capture(task<T>&& t) {
    return {std::move(t), nullptr};
}

// The traits behind every "callable and its arguments" API: what the
// callable returns, checked to be a trellis::task, with one message that
// says what to do when it is not.
template <class F, class... A>
using invoke_result_t = std::invoke_result_t<std::decay_t<F>&&, std::decay_t<A>&&...>;

template <class R>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {
    using value_type = T;
};

template <class>
inline constexpr bool dependent_false = false;

// The result type given to a call that is not valid. It keeps the entry
// point's signature well-formed (a return type that failed to substitute
// would turn the mistake into "no matching function" and a list of
// candidates), so the entry point's static_assert is the one error the
// user sees. It converts to anything (never defined: it exists only in
// programs that do not compile) so the caller's use of the result adds no
// second error either.
struct invalid_callable {
    template <class T>
    operator T() const;
};

// fn(args...) is a valid async call: fn is not itself a task, and calling
// it with the arguments (as rvalues) returns a trellis::task.
template <class F, class... A>
concept async_callable = !is_task<std::decay_t<F>>::value &&
                         std::is_invocable_v<std::decay_t<F>&&, std::decay_t<A>&&...> &&
                         is_task<invoke_result_t<F, A...>>::value;

// Says, in one static_assert, why fn(args...) is not a valid async call.
// Always returns true: callers write static_assert(check_async_callable<F, A...>())
// and guard the rest of their body with `if constexpr (async_callable<F, A...>)`,
// so that nothing else fails after the message.
template <class F, class... A>
constexpr bool check_async_callable() {
    if constexpr (is_task<std::decay_t<F>>::value) {
        static_assert(dependent_false<F>,
                      "trellis: pass the async function and its arguments separately (start_soon(child, 1)), "
                      "not an already-created task (start_soon(child(1)))");
    } else if constexpr (!std::is_invocable_v<std::decay_t<F>&&, std::decay_t<A>&&...>) {
        static_assert(dependent_false<F>,
                      "trellis: the callable cannot be called with these arguments; pass the function and its "
                      "arguments separately (f, 1), not the result of calling it (f(1))");
    } else if constexpr (!is_task<invoke_result_t<F, A...>>::value) {
        static_assert(dependent_false<F>,
                      "trellis: the callable must return trellis::task<T> (an async function); a plain "
                      "function can run on a worker thread with to_thread::run_sync");
    }
    return true;
}

template <class F, class... A>
struct async_result {
    using type = invalid_callable;
};
template <class F, class... A>
    requires async_callable<F, A...>
struct async_result<F, A...> {
    using type = typename is_task<invoke_result_t<F, A...>>::value_type;
};
// What co_await fn(args...) gives; invalid_callable when that is not a valid
// async call.
template <class F, class... A>
using async_result_t = typename async_result<F, A...>::type;

// co_await capture_call(fn, args...): calls fn(args...) and captures the task
// it returns, like capture(). If the call itself throws (a plain function
// returning a task may fail before any coroutine exists), that error is
// captured too, so code that entered a scope or opened a nursery around the
// call always gets to leave it.
template <class F, class... A>
auto capture_call(F&& fn, A&&... args)
    -> capture_awaiter<typename is_task<std::invoke_result_t<F&&, A&&...>>::value_type> {
    try {
        return {std::invoke(std::forward<F>(fn), std::forward<A>(args)...), nullptr};
    } catch (...) {
        return {{}, std::current_exception()};
    }
}

}  // namespace detail
}  // namespace trellis

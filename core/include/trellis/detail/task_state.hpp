// Internal: the scheduler's record of one trellis task, and the coroutine
// that forms the outermost frame of every task.
//
// A trellis task is a chain of coroutine frames: the outermost one
// (task_root, whose promise *is* the task_state, so a task costs one
// allocation for its bookkeeping) awaits the user's task<T>, which awaits
// others, and so on. The chain passes control up and down by symmetric
// transfer without involving the scheduler. Only when a leaf awaitable
// blocks (wait_task_rescheduled, a checkpoint, a sleep) does control return
// to the runner; that awaitable records the frame to resume in
// `resume_point`.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

#include "trellis/detail/frame_allocator.hpp"
#include "trellis/detail/intrusive_list.hpp"
#include "trellis/task.hpp"

namespace trellis {
class nursery;
class cancel_scope;

namespace lowlevel {
// What an abort callback reports when the scheduler asks it to abandon a
// blocked operation because the task was cancelled.
enum class abort_result {
    succeeded,  // the operation is undone; the scheduler resumes the task with `cancelled`
    failed,     // the operation cannot be undone now; whoever completes it reschedules the task
};
}  // namespace lowlevel

namespace detail {

class runner;
struct task_local_map;
struct in_nursery_tag;
struct in_scope_tag;

// A non-owning reference to the abort callback of a blocked task. The
// callback itself lives in the awaiter, inside the blocked coroutine frame,
// so it stays valid for exactly as long as the task is blocked.
struct abort_ref {
    void* self = nullptr;
    lowlevel::abort_result (*call)(void* self, const std::exception_ptr& cancel) = nullptr;
    explicit operator bool() const noexcept { return call != nullptr; }
};

// Where a rescheduled task's value goes: a slot inside the blocked awaiter
// (see lowlevel::wait_task_rescheduled<T>), typed so that a waker handing
// over the wrong type is caught.
struct resume_slot {
    const std::type_info* type = nullptr;
    void* storage = nullptr;  // a std::optional<T>
};

enum class task_phase : std::uint8_t {
    runnable,  // on the run queue
    running,   // being resumed by the runner right now
    blocked,   // suspended in wait_task_rescheduled; on_abort may be set
    exited,    // the root frame reached final_suspend
};

class task_state : public list_node<in_nursery_tag>, public list_node<in_scope_tag> {
public:
    // All fields are touched only on the run's thread.
    runner* owner = nullptr;
    // Invariant: the task is on parent_nursery->children_ until it exits.
    // Null for the root task.
    nursery* parent_nursery = nullptr;
    // Invariant: the task is on scope->tasks_; scope is the innermost
    // cancel scope the task is inside (a nursery's scope for a new child).
    cancel_scope* scope = nullptr;
    // The innermost nursery this task has open; the rest via nursery::outer_.
    nursery* innermost_nursery = nullptr;
    // Invariant: set whenever phase is runnable or blocked.
    std::coroutine_handle<> resume_point;
    // Invariant: non-null only while blocked and not yet asked to abort.
    abort_ref on_abort;
    // The error the next resumption raises in the task (set by reschedule).
    std::exception_ptr resume_error;
    // Invariant: non-null only while blocked in a wait that takes a value.
    resume_slot* value_slot = nullptr;
    // The error the task's function ended with, if any.
    std::exception_ptr exit_error;
    // What the task was spawned from, for its default name: the address of
    // a plain function when origin_is_function, else its callable's
    // std::type_info.
    const void* origin = nullptr;
    std::unique_ptr<std::string> name;
    // The task-local values this task sees (see task_local.hpp): shared,
    // immutable, replaced on write, inherited by tasks it spawns.
    std::shared_ptr<const task_local_map> locals;
    std::uint64_t id = 0;
    // How often the task has given other tasks a chance to run, and how
    // often it has checked for cancellation (testing::assert_checkpoints).
    std::uint32_t schedule_points = 0;
    std::uint32_t cancel_points = 0;
    task_phase phase = task_phase::runnable;
    bool origin_is_function = false;
};

// The coroutine type of a task's outermost frame. Its promise is the
// task_state. At final_suspend it marks the task exited and returns control
// to the runner, which reports the exit to the nursery and destroys the
// frame.
class task_root {
public:
    struct promise_type : task_state {
        static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
        static void operator delete(void* frame, std::size_t size) noexcept {
            frame_allocator::deallocate(frame, size);
        }
        task_root get_return_object() noexcept {
            return task_root(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<promise_type> self) const noexcept {
                self.promise().phase = task_phase::exited;
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() const noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { exit_error = std::current_exception(); }
    };
    using handle = std::coroutine_handle<promise_type>;

    task_root(task_root&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    task_root& operator=(task_root&&) = delete;
    ~task_root() {
        if (frame_) frame_.destroy();
    }
    handle release() noexcept { return std::exchange(frame_, {}); }

private:
    explicit task_root(handle frame) noexcept : frame_(frame) {}
    handle frame_;
};

// Awaited only by task roots: runs the user's task and records its error as
// the task's exit error, without rethrowing it.
template <class T>
auto run_as_task_body(task<T>&& body);

// The outermost frame of a spawned task. Its parameters are the callable and
// its arguments, so they live exactly as long as the task does.
template <class F, class... A>
task_root make_task_root(F fn, A... args) {
    co_await run_as_task_body(std::invoke(std::move(fn), std::move(args)...));
}

template <class T>
auto run_as_task_body(task<T>&& body) {
    struct awaiter {
        task<T> owned;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<task_root::promise_type> root_frame) noexcept {
            root = &root_frame.promise();
            auto frame = task_access<T>::frame(owned);
            frame.promise().continuation = root_frame;
            return frame;
        }
        void await_resume() noexcept {
            auto result = task_access<T>::frame(owned).promise().take_outcome();
            if (result.has_error()) root->exit_error = result.error();
        }
        task_state* root = nullptr;
    };
    return awaiter{std::move(body)};
}

// What a spawned task is called: the name given with trellis::named, else
// derived from what it was spawned from (see task_state::origin).
struct spawn_name {
    const std::string* explicit_name = nullptr;
    const void* origin = nullptr;
    bool origin_is_function = false;
};

// The spawn_name of callable F (an object, or a plain function `fn` points to).
template <class F>
spawn_name name_of(const F& fn, const std::string* explicit_name = nullptr) noexcept {
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)
        return {explicit_name, reinterpret_cast<const void*>(fn), true};
    else if constexpr (std::is_function_v<F>)
        return {explicit_name, reinterpret_cast<const void*>(&fn), true};
    else
        return {explicit_name, &typeid(F), false};
}

// ---- The scheduler's entry points used by header templates. ----

// The task currently running on this thread. Throws run_error naming
// `caller` if this thread is not inside a trellis task.
task_state& current_task_or_throw(const char* caller);
// The run active on this thread (in a task or in a host callback during a
// guest run). Throws run_error naming `caller` otherwise.
runner& current_runner_or_throw(const char* caller);
// Null when no run is active on this thread.
runner* current_runner_or_null() noexcept;

// Makes `root` a new child task of `into`. Throws run_error naming `caller`
// if the nursery is closed or belongs to another run, or this thread is not
// running it.
void spawn(nursery& into, task_root root, spawn_name name, const char* caller);


}  // namespace detail
}  // namespace trellis

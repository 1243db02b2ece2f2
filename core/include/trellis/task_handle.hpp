// trellis::lowlevel::task_handle: a non-owning reference to a running task,
// for introspection (names, the task tree) and for reschedule().
//
// A handle is only valid while its task has not exited; using one after that
// is undefined, exactly like a dangling pointer. Use it only on the run's
// thread.
#pragma once

#include <string>
#include <vector>

#include "trellis/detail/task_state.hpp"

namespace trellis {

// Names a spawned task: n.start_soon(trellis::named("worker"), fn, args...),
// or co_await n.start(trellis::named("server"), fn, args...). Without it a
// task is named after the plain function it runs (its demangled symbol,
// when the program has one) or else after its callable's type.
struct named {
    explicit named(std::string n) : name(std::move(n)) {}
    std::string name;
};

namespace lowlevel {

class task_handle {
public:
    task_handle() noexcept = default;
    explicit task_handle(detail::task_state* state) noexcept : state_(state) {}

    // The task's name: the one given with trellis::named, else the plain
    // function's demangled symbol (e.g. "child(int)"), else its callable's
    // demangled type. Not a checkpoint.
    std::string name() const;
    // A number unique within the run, in spawn order.
    std::uint64_t id() const noexcept { return state_->id; }
    // The nursery this task runs in; null for the root task. For a task
    // started with nursery::start that has not called started() yet, this
    // is start()'s own temporary nursery.
    trellis::nursery* parent_nursery() const noexcept { return state_->parent_nursery; }
    // For a task started with nursery::start that has not called started()
    // yet: the nursery it will move into. Null otherwise (as in Trio).
    trellis::nursery* eventual_parent_nursery() const noexcept;
    // The nurseries this task has open, outermost first.
    std::vector<trellis::nursery*> child_nurseries() const;

    detail::task_state* state() const noexcept { return state_; }
    explicit operator bool() const noexcept { return state_ != nullptr; }
    friend bool operator==(const task_handle&, const task_handle&) = default;

private:
    detail::task_state* state_ = nullptr;
};

// The task that is running now. Not a checkpoint. Throws run_error outside
// a task.
task_handle current_task();
// The root of the task tree: the task that owns the system nursery, in which
// the main task and system tasks run. Not a checkpoint. Throws run_error
// outside a run.
task_handle current_root_task();

}  // namespace lowlevel
}  // namespace trellis

// trellis::task_local<T>: a value each task sees as its own (the part Trio's
// context variables play).
//
// A task starts with the values of the task that spawned it (a copy taken
// at spawn time); after that, changes on either side stay on that side: a
// child's set() never leaks to its parent or siblings. A function running
// in to_thread::run_sync sees the calling task's values too, as a copy of
// its own: what it sets stays on the worker thread and ends with the call.
// (lowlevel::run_var<T> is the run-wide counterpart.)
//
// Declare task_locals as globals or statics; a task_local must outlive every
// run that uses it. Use get()/set()/reset() inside tasks, or in a function
// that to_thread::run_sync runs.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "trellis/detail/reset_token.hpp"
#include "trellis/errors.hpp"

namespace trellis {

namespace detail {
struct task_local_map;
// The current task's (or to_thread worker's) value for `key`, or null.
// Throws run_error naming `caller` elsewhere.
const std::shared_ptr<void>* task_local_find(const void* key, const char* caller);
// Sets (value non-null) or removes (null) the current task's value; returns
// the previous one (null if there was none).
std::shared_ptr<void> task_local_store(const void* key, std::shared_ptr<void> value, const char* caller);
}  // namespace detail

template <class T>
class task_local {
public:
    // What set() returns: reset(token) puts back the value that set()
    // replaced, in the task that called set(). Usable once.
    using token = detail::reset_token<task_local>;

    task_local() = default;
    explicit task_local(T default_value) : default_(std::move(default_value)) {}
    task_local(const task_local&) = delete;
    task_local& operator=(const task_local&) = delete;

    // This task's value, else the default. Not a checkpoint. Throws
    // run_error outside a task, or if there is neither value nor default.
    T get() const {
        if (auto* v = detail::task_local_find(this, "task_local::get")) return *static_cast<const T*>(v->get());
        if (default_) return *default_;
        throw run_error("task_local::get: no value set in this task (or inherited) and no default");
    }
    // This task's value, else `default_value`. Not a checkpoint. Throws
    // run_error outside a task.
    T get(T default_value) const {
        if (auto* v = detail::task_local_find(this, "task_local::get")) return *static_cast<const T*>(v->get());
        return default_value;
    }
    // Sets this task's value; tasks it spawns afterwards inherit it. Returns
    // a token for reset(token). Not a checkpoint. Throws run_error outside a
    // task.
    token set(T value) {
        return token(this, detail::task_local_store(this, std::make_shared<T>(std::move(value)), "task_local::set"));
    }
    // Puts back this task's value from before the set() that returned `t`.
    // Not a checkpoint. Throws run_error outside a task (the token is then
    // used up), if `t` belongs to another task_local, or if it was used
    // already.
    void reset(token& t) {
        t.check_usable_by(this, "task_local");
        detail::task_local_store(this, t.take_previous(), "task_local::reset");
    }
    // Removes this task's value (get() falls back to the default). Not a
    // checkpoint. Throws run_error outside a task.
    void reset() { detail::task_local_store(this, nullptr, "task_local::reset"); }

private:
    std::optional<T> default_;
};

namespace lowlevel {

// A snapshot of a task's task_local values, to carry them to code that runs
// outside the task (to_thread::run_sync carries them to its worker). Cheap
// to copy; immutable; any thread.
class task_locals {
public:
    task_locals() = default;
    explicit task_locals(std::shared_ptr<const detail::task_local_map> values) noexcept : values_(std::move(values)) {}
    const std::shared_ptr<const detail::task_local_map>& values() const noexcept { return values_; }

private:
    std::shared_ptr<const detail::task_local_map> values_;
};

// The current task's values. Not a checkpoint. Throws run_error outside a
// task.
task_locals current_task_locals();

// While it lives, task_local get/set/reset on this thread, outside any
// trellis task, work on a private copy of `values`: what they set is
// dropped with the guard. For threads that run work on a task's behalf.
// Guards nest. Use on one thread; not a checkpoint.
class scoped_task_locals {
public:
    explicit scoped_task_locals(task_locals values);
    ~scoped_task_locals();
    scoped_task_locals(const scoped_task_locals&) = delete;
    scoped_task_locals& operator=(const scoped_task_locals&) = delete;

private:
    std::shared_ptr<const detail::task_local_map> values_;
    std::shared_ptr<const detail::task_local_map>* outer_;
};

}  // namespace lowlevel
}  // namespace trellis

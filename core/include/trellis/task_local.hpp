// trellis::task_local<T>: a value each task sees as its own.
//
// A task starts with the values of the task that spawned it (a copy taken
// at spawn time); after that, changes on either side stay on that side: a
// child's set() never leaks to its parent or siblings. This is the part
// Trio's context variables play. (lowlevel::run_var<T> is the run-wide
// counterpart.) Declare task_locals as globals or statics; a task_local must
// outlive every run that uses it.
//
// Use get()/set() inside tasks only.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "trellis/errors.hpp"

namespace trellis {

namespace detail {
// The current task's value for `key`, or null. Throws run_error naming
// `caller` outside a task.
const std::shared_ptr<void>* task_local_find(const void* key, const char* caller);
// Sets (value non-null) or removes (null) the current task's value.
void task_local_store(const void* key, std::shared_ptr<void> value, const char* caller);
}  // namespace detail

template <class T>
class task_local {
public:
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
    // Sets this task's value; tasks it spawns afterwards inherit it. Not a
    // checkpoint. Throws run_error outside a task.
    void set(T value) { detail::task_local_store(this, std::make_shared<T>(std::move(value)), "task_local::set"); }
    // Removes this task's value (get() falls back to the default).
    void reset() { detail::task_local_store(this, nullptr, "task_local::reset"); }

private:
    std::optional<T> default_;
};

}  // namespace trellis

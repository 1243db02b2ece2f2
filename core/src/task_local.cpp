// Task-local storage: each task holds a pointer to an immutable map of
// values, shared with the tasks it spawned until one of them writes, which
// copies it. Spawning costs one shared_ptr copy; maps are tiny (one entry
// per task_local in use), so lookups are a linear scan. A thread working
// for a task (to_thread) holds a map of its own through
// scoped_task_locals.

#include "trellis/task_local.hpp"

#include <algorithm>
#include <vector>

#include "runner.hpp"

namespace trellis::detail {

struct task_local_map {
    std::vector<std::pair<const void*, std::shared_ptr<void>>> values;
};

namespace {

// The map a scoped_task_locals lends this thread; null when none does.
thread_local std::shared_ptr<const task_local_map>* lent_locals = nullptr;

// The map get/set work on: the running task's, else the lent one.
std::shared_ptr<const task_local_map>& locals_here(const char* caller) {
    if (task_state* t = tls.task) return t->locals;
    if (lent_locals) return *lent_locals;
    return current_task_or_throw(caller).locals;  // throws the usual misuse error
}

}  // namespace

const std::shared_ptr<void>* task_local_find(const void* key, const char* caller) {
    const auto& locals = locals_here(caller);
    if (!locals) return nullptr;
    for (const auto& [k, v] : locals->values)
        if (k == key) return &v;
    return nullptr;
}

std::shared_ptr<void> task_local_store(const void* key, std::shared_ptr<void> value, const char* caller) {
    auto& locals = locals_here(caller);
    auto updated = std::make_shared<task_local_map>();
    if (locals) updated->values = locals->values;
    auto& values = updated->values;
    std::shared_ptr<void> previous;
    auto it = std::find_if(values.begin(), values.end(), [key](const auto& kv) { return kv.first == key; });
    if (it != values.end()) {
        previous = std::move(it->second);
        values.erase(it);
    }
    if (value) values.emplace_back(key, std::move(value));
    locals = std::move(updated);
    return previous;
}

}  // namespace trellis::detail

namespace trellis::lowlevel {

task_locals current_task_locals() {
    return task_locals(detail::current_task_or_throw("lowlevel::current_task_locals").locals);
}

scoped_task_locals::scoped_task_locals(task_locals values)
    : values_(values.values()), outer_(detail::lent_locals) {
    detail::lent_locals = &values_;
}

scoped_task_locals::~scoped_task_locals() { detail::lent_locals = outer_; }

}  // namespace trellis::lowlevel

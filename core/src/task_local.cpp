// Task-local storage: each task holds a pointer to an immutable map of
// values, shared with the tasks it spawned until one of them writes, which
// copies it. Spawning costs one shared_ptr copy; maps are tiny (one entry
// per task_local in use), so lookups are a linear scan.

#include "trellis/task_local.hpp"

#include <algorithm>
#include <vector>

#include "trellis/detail/task_state.hpp"

namespace trellis::detail {

struct task_local_map {
    std::vector<std::pair<const void*, std::shared_ptr<void>>> values;
};

const std::shared_ptr<void>* task_local_find(const void* key, const char* caller) {
    task_state& t = current_task_or_throw(caller);
    if (!t.locals_) return nullptr;
    for (const auto& [k, v] : t.locals_->values)
        if (k == key) return &v;
    return nullptr;
}

void task_local_store(const void* key, std::shared_ptr<void> value, const char* caller) {
    task_state& t = current_task_or_throw(caller);
    auto updated = std::make_shared<task_local_map>();
    if (t.locals_) updated->values = t.locals_->values;
    auto& values = updated->values;
    auto it = std::find_if(values.begin(), values.end(), [key](const auto& kv) { return kv.first == key; });
    if (it != values.end()) values.erase(it);
    if (value) values.emplace_back(key, std::move(value));
    t.locals_ = std::move(updated);
}

}  // namespace trellis::detail

#include "trellis/task_handle.hpp"

#include "demangle.hpp"
#include "runner.hpp"
#include "trellis/nursery.hpp"

namespace trellis::lowlevel {

std::string task_handle::name() const {
    if (state_->name) return *state_->name;
    if (!state_->origin) return "<task>";
    if (state_->origin_is_function) {
        if (auto name = detail::function_name(state_->origin)) return *name;
        return "<function>";
    }
    return detail::demangle(static_cast<const std::type_info*>(state_->origin)->name());
}

trellis::nursery* task_handle::eventual_parent_nursery() const noexcept {
    trellis::nursery* parent = state_->parent_nursery;
    return parent ? detail::nursery_access::start_target(*parent) : nullptr;
}

std::vector<trellis::nursery*> task_handle::child_nurseries() const {
    std::vector<trellis::nursery*> result;
    for (trellis::nursery* n = state_->innermost_nursery; n; n = detail::nursery_access::outer(*n))
        result.insert(result.begin(), n);
    return result;
}

task_handle current_task() { return task_handle(&detail::current_task_or_throw("lowlevel::current_task")); }

task_handle current_root_task() {
    return task_handle(detail::current_runner_or_throw("lowlevel::current_root_task").root_task());
}

}  // namespace trellis::lowlevel

#include "trellis/task_handle.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "trellis/nursery.hpp"

namespace trellis::lowlevel {

std::string task_handle::name() const {
    if (state_->name_) return *state_->name_;
    if (!state_->fn_type_) return "<task>";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(
        abi::__cxa_demangle(state_->fn_type_->name(), nullptr, nullptr, &status), &std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : std::string(state_->fn_type_->name());
}

std::vector<trellis::nursery*> task_handle::child_nurseries() const {
    std::vector<trellis::nursery*> result;
    for (trellis::nursery* n = state_->innermost_nursery_; n; n = detail::nursery_access::outer(*n))
        result.insert(result.begin(), n);
    return result;
}

}  // namespace trellis::lowlevel

#include "trellis/run_var.hpp"

#include "runner.hpp"

namespace trellis::detail {

std::shared_ptr<void>& run_var_slot(const void* key, const char* caller) {
    return current_runner_or_throw(caller).run_var_slot(key);
}

}  // namespace trellis::detail

// checkpoint, checkpoint_if_cancelled, cancel_shielded_checkpoint: the
// out-of-line half (the hot half is inline in checkpoint.hpp).

#include "trellis/checkpoint.hpp"

#include "runner.hpp"

namespace trellis::detail {

void yield_task(std::coroutine_handle<> resume_point, const char* caller) {
    // Read the thread's task directly; the checked lookup (which builds the
    // error) is only for the misuse case.
    task_state* t = tls.task;
    if (!t) [[unlikely]]
        t = &current_task_or_throw(caller);
    t->owner->yield_current(*t, resume_point);
}

}  // namespace trellis::detail

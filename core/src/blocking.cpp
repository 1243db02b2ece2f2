// Blocking and rescheduling: the one protocol every blocking awaitable
// follows (detail/blocking.hpp), and its public face,
// lowlevel::wait_task_rescheduled / reschedule.

#include "trellis/detail/blocking.hpp"

#include <string>

#include "demangle.hpp"
#include "runner.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis::detail {

void block_task(task_state& task, std::coroutine_handle<> resume_point, abort_ref abort) {
    task.owner->block(task, resume_point, abort);
}

void raise_resume_error(task_state& t) {
    // The common error is the run's cancellation: throw it without an
    // exception_ptr temporary in this frame (see throw_cancelled).
    if (t.resume_error == t.owner->cancelled_error()) {
        t.resume_error = nullptr;
        throw_cancelled();
    }
    std::rethrow_exception(std::exchange(t.resume_error, nullptr));
}

namespace {
std::string type_name(const std::type_info* type) { return type ? demangle(type->name()) : "no value"; }
}  // namespace

resume_slot* check_reschedule(task_state* t, const std::type_info* value_type, bool with_error) {
    if (!t) throw run_error("lowlevel::reschedule: empty task_handle");
    if (tls.run != t->owner)
        throw run_error(
            "lowlevel::reschedule: called from a thread that is not running the task's trellis "
            "run; post the call through trellis::token::run_sync_soon");
    if (t->phase != task_phase::blocked)
        throw run_error(
            "lowlevel::reschedule: the task is not blocked in wait_task_rescheduled (it is "
            "running, already rescheduled, or finished)");
    resume_slot* slot = t->value_slot;
    if (with_error) return slot;
    const std::type_info* expected = slot ? slot->type : nullptr;
    const bool same = expected == value_type || (expected && value_type && *expected == *value_type);
    if (!same)
        throw run_error("lowlevel::reschedule: the task waits for " + type_name(expected) +
                        " (wait_task_rescheduled<T>), but was handed " + type_name(value_type));
    return slot;
}

void reschedule_checked(task_state* t, std::exception_ptr error) {
    t->value_slot = nullptr;
    t->owner->reschedule(*t, std::move(error));
}

}  // namespace trellis::detail

namespace trellis::lowlevel {

void reschedule(task_handle task, std::exception_ptr error) {
    detail::task_state* t = task.state();
    detail::check_reschedule(t, nullptr, error != nullptr);
    detail::reschedule_checked(t, std::move(error));
}

}  // namespace trellis::lowlevel

// Finding the run and the task this thread is working for, and the misuse
// errors when there is none.

#include "trellis/detail/thread_context.hpp"

#include <string>

#include "runner.hpp"
#include "trellis/run.hpp"

namespace trellis::detail {

constinit thread_local thread_context tls [[gnu::tls_model("initial-exec")]];  // see thread_context.hpp

void throw_cancelled() { throw cancelled_factory::make(); }

namespace {
[[noreturn, gnu::noinline, gnu::cold]] void outside_run(const char* caller) {
    throw run_error(std::string(caller) +
                    ": called outside a trellis run; call it from a task inside trellis::run() or "
                    "a guest run (from another thread, reach the run through a trellis::token)");
}

[[noreturn, gnu::noinline, gnu::cold]] void outside_task(const char* caller) {
    if (!tls.run) outside_run(caller);
    throw run_error(std::string(caller) +
                    ": called outside a trellis task (in a host callback or a token callback); "
                    "start a task with a nursery or lowlevel::spawn_system_task and call it there");
}
}  // namespace

runner* current_runner_or_null() noexcept { return tls.run; }

runner& current_runner_or_throw(const char* caller) {
    if (!tls.run) [[unlikely]]
        outside_run(caller);
    return *tls.run;
}

// The error path lives in outside_task(), out of line, so that this hot
// lookup (every blocking call and sync primitive makes one) needs no stack
// frame.
task_state& current_task_or_throw(const char* caller) {
    if (task_state* t = tls.task) [[likely]]
        return *t;
    outside_task(caller);
}

}  // namespace trellis::detail

namespace trellis {
bool in_trellis_run() noexcept { return detail::tls.run != nullptr; }
bool in_trellis_task() noexcept { return detail::tls.task != nullptr; }
}  // namespace trellis

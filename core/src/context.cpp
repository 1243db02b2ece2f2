// Where the scheduler's entry points for header templates live: finding the
// current run and task, spawning, blocking.

#include "runner.hpp"
#include "trellis/token.hpp"

namespace trellis::detail {

namespace {
[[noreturn]] void outside_run(const char* caller) {
    throw run_error(std::string(caller) +
                    ": called outside a trellis run (no run is active on this thread; from "
                    "another thread, post through trellis::token::run_sync_soon)");
}

[[noreturn, gnu::noinline, gnu::cold]] void outside_task(const char* caller) {
    if (!tls.run) outside_run(caller);
    throw run_error(std::string(caller) +
                    ": called outside a trellis task (in a host callback or a token "
                    "callback); start a task with a nursery or spawn_system_task");
}
}  // namespace

runner* current_runner_or_null() noexcept { return tls.run; }
task_state* current_task_or_null() noexcept { return tls.task; }

runner& current_runner_or_throw(const char* caller) {
    if (!tls.run) outside_run(caller);
    return *tls.run;
}

// The error path lives in outside_task(), out of line, so that this hot
// lookup (every checkpoint and sync primitive makes one) needs no stack
// frame.
task_state& current_task_or_throw(const char* caller) {
    if (task_state* t = tls.task) [[likely]]
        return *t;
    outside_task(caller);
}

void spawn(nursery& into, task_root root, spawn_name name) {
    nursery_access::check_open(into, "nursery::start_soon");
    tls.run->spawn(into, std::move(root), name);
}

void block_current(std::coroutine_handle<> resume_point, abort_ref abort) {
    task_state& t = *tls.task;
    t.runner_->block(t, resume_point, abort);
}

void raise_resume_error(task_state& t) {
    // The common error is the run's cancellation: throw it without an
    // exception_ptr temporary in this frame (see throw_cancelled).
    if (t.resume_error_ == t.runner_->cancelled_error()) {
        t.resume_error_ = nullptr;
        throw_cancelled();
    }
    std::rethrow_exception(std::exchange(t.resume_error_, nullptr));
}

}  // namespace trellis::detail

namespace trellis::lowlevel {

void reschedule(task_handle task, std::exception_ptr error) {
    detail::task_state* t = task.state();
    if (!t) throw run_error("lowlevel::reschedule: empty task_handle");
    if (detail::tls.run != t->runner_)
        throw run_error(
            "lowlevel::reschedule: called from a thread that is not running the task's trellis "
            "run; post the call through trellis::token::run_sync_soon");
    t->runner_->reschedule(*t, std::move(error));
}

task_handle current_task() { return task_handle(&detail::current_task_or_throw("lowlevel::current_task")); }

task_handle current_root_task() {
    return task_handle(detail::current_runner_or_throw("lowlevel::current_root_task").root_task());
}

void add_instrument(std::shared_ptr<instrument> inst) {
    if (!inst) throw run_error("lowlevel::add_instrument: null instrument");
    detail::current_runner_or_throw("lowlevel::add_instrument").add_instrument(std::move(inst));
}

void remove_instrument(const std::shared_ptr<instrument>& inst) {
    detail::current_runner_or_throw("lowlevel::remove_instrument").remove_instrument(inst);
}

namespace detail_run_var {
std::shared_ptr<void>* slot(const void* key, const char* caller) {
    return &detail::current_runner_or_throw(caller).run_var_slot(key);
}
}  // namespace detail_run_var

namespace detail_system {
nursery& system_nursery(const char* caller) {
    auto& r = detail::current_runner_or_throw(caller);
    nursery* n = r.system_nursery();
    if (!n || n->closed())
        throw run_error(std::string(caller) + ": the run is shutting down; no new system tasks");
    return *n;
}
void mark_last_spawned_as_system(nursery&) {
    if (auto* t = detail::tls.run->last_spawned()) {
        t->is_system_ = true;
        // System tasks start from the run's own (empty) task-local values,
        // not from those of whichever task spawned them (as in Trio).
        t->locals_.reset();
    }
}
}  // namespace detail_system

}  // namespace trellis::lowlevel

namespace trellis {
bool in_trellis_run() noexcept { return detail::tls.run != nullptr; }
bool in_trellis_task() noexcept { return detail::tls.task != nullptr; }

token current_token() { return token(detail::current_runner_or_throw("trellis::current_token").entries()); }

void token::run_sync_soon(std::function<void()> fn) const {
    if (!fn) throw run_error("token::run_sync_soon: empty function");
    queue_->post(std::move(fn));
}
}  // namespace trellis

// Nurseries: spawning, joining children, combining their errors, and the
// start() handshake's move of a task from a temporary nursery into its
// target.

#include <cassert>

#include "nursery_errors.hpp"
#include "runner.hpp"
#include "trellis/detail/blocking.hpp"

namespace trellis {

using detail::nursery_access;
using detail::scope_access;
using detail::task_state;

nursery::~nursery() = default;

std::vector<lowlevel::task_handle> nursery::child_tasks() const {
    std::vector<lowlevel::task_handle> result;
    children_.for_each([&](task_state* t) { result.emplace_back(t); });
    return result;
}

namespace detail {

void spawn(nursery& into, task_root root, spawn_name name, const char* caller) {
    nursery_access::check_open(into, caller);
    tls.run->spawn(into, std::move(root), name, false);
}

void spawn_system(task_root root, spawn_name name, const char* caller) {
    runner& r = current_runner_or_throw(caller);
    nursery* n = r.system_nursery();
    if (!n || n->closed())
        throw run_error(std::string(caller) + ": the run is shutting down; no new system tasks can start");
    r.spawn(*n, std::move(root), name, true);
}

void nursery_access::open(nursery& n, const nursery_options& options) {
    task_state& t = current_task_or_throw("trellis::open_nursery");
    scope_access::enter(n.scope_, "trellis::open_nursery");
    n.parent_task_ = &t;
    n.outer_ = t.innermost_nursery;
    n.strict_groups_ = options.strict_exception_groups.value_or(t.owner->strict_exception_groups());
    t.innermost_nursery = &n;
}

void nursery_access::check_open(const nursery& n, const char* caller) {
    runner* r = current_runner_or_null();
    if (!r)
        throw run_error(std::string(caller) +
                        ": called outside a trellis run (from another thread, post through "
                        "trellis::token::run_sync_soon)");
    if (n.parent_task_->owner != r)
        throw run_error(std::string(caller) + ": the nursery belongs to a different trellis run");
    if (n.closed_)
        throw run_error(std::string(caller) +
                        ": the nursery is closed (its body returned and all its children "
                        "finished); start tasks in a nursery that is still open");
}

void nursery_access::add_child(nursery& n, task_state& child) noexcept {
    child.parent_nursery = &n;
    n.children_.push_back(&child);
    scope_access::attach_task(n.scope_, child);
}

void nursery_access::remove_child(nursery& n, task_state& child) {
    scope_access::detach_task(*child.scope, child);
    n.children_.remove(&child);
    child.parent_nursery = nullptr;
    if (child.exit_error) add_error(n, child.exit_error);
    close_if_done(n);
}

void nursery_access::remove_child_silently(nursery& n, task_state& child) noexcept {
    n.children_.remove(&child);
    child.parent_nursery = nullptr;
}

void nursery_access::add_error(nursery& n, std::exception_ptr error) {
    n.errors_.push_back(std::move(error));
    n.scope_.cancel();
}

void nursery_access::close_if_done(nursery& n) {
    if (!n.body_done_ || !n.children_.empty() || n.pending_starts_ > 0) return;
    n.closed_ = true;
    if (task_state* parent = std::exchange(n.waiting_parent_, nullptr))
        parent->owner->reschedule(*parent, nullptr);
}

void nursery_access::finish_start(nursery& n) {
    --n.pending_starts_;
    close_if_done(n);
}

void nursery_access::join_awaiter::await_suspend(std::coroutine_handle<> self) {
    task_state& t = current_task_or_throw("trellis::open_nursery");
    task = &t;
    if (body_error) add_error(n, std::move(body_error));
    n.body_done_ = true;
    close_if_done(n);
    if (n.closed_) {
        // Nothing to wait for, but leaving a nursery is still a checkpoint:
        // yield now, look for a cancellation in await_resume.
        yielded = true;
        t.owner->yield_current(t, self);
        return;
    }
    n.waiting_parent_ = &t;
    // If the parent is cancelled meanwhile, the children are inside the
    // same scopes and get cancelled too; the parent records the
    // cancellation and keeps waiting for them (the abort fails).
    block_task(t, self, abort_ref{this, [](void* me, const std::exception_ptr& cancel) noexcept {
                                      add_error(static_cast<join_awaiter*>(me)->n, cancel);
                                      return lowlevel::abort_result::failed;
                                  }});
}

void nursery_access::join_awaiter::await_resume() {
    if (!yielded) return finish_blocking(*task);
    // The checkpoint's cancellation, recorded rather than thrown.
    ++task->cancel_points;
    if (scope_access::effectively_cancelled(*task->scope)) add_error(n, task->owner->cancelled_error());
}

std::exception_ptr nursery_access::close(nursery& n) noexcept {
    task_state& t = *n.parent_task_;
    assert(t.innermost_nursery == &n && "trellis bug: nurseries closed out of order");
    t.innermost_nursery = n.outer_;
    std::exception_ptr combined = combine_errors(*t.owner, std::exchange(n.errors_, {}), n.strict_groups_);
    return scope_access::exit(n.scope_, std::move(combined));
}

void nursery_access::adopt(nursery& temporary, nursery& target) {
    // A cancelled start(): the task stays where it is, under the caller's
    // cancelled scopes, so the cancellation it is about to meet is caught
    // where it belongs and nothing escapes into the target nursery.
    if (scope_access::effectively_cancelled(temporary.scope_)) return;
    if (target.closed_)
        throw run_error("task_status::started: the target nursery is already closed");
    while (task_state* t = temporary.children_.front()) {
        temporary.children_.remove(t);
        target.children_.push_back(t);
        t->parent_nursery = &target;
    }
    temporary.start_target_ = nullptr;
    scope_access::move_children(temporary.scope_, target.scope_, temporary.parent_task_);
    close_if_done(temporary);
}

void complete_start(nursery& temporary, nursery& target) {
    current_task_or_throw("task_status::started");
    nursery_access::adopt(temporary, target);
}

}  // namespace detail
}  // namespace trellis

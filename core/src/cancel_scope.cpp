// Cancel scopes and the cancellation tree.
//
// Entered scopes form a tree (parent_ / children_) that mirrors how scopes
// and nurseries nest across tasks; each task hangs off its innermost scope.
// A scope is *effectively cancelled* if it was cancelled itself, or its
// parent is effectively cancelled and it is not shielded. recalculate()
// keeps that flag right after any change (cancel, shield, reparenting), and
// whenever a scope becomes effectively cancelled, asks each blocked task on
// it to abort its wait. Checkpoints read the flag of the task's innermost
// scope, which is all "level-triggered" needs.

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <exception>
#include <vector>

#include "nursery_errors.hpp"
#include "runner.hpp"

namespace trellis {

using detail::runner;
using detail::scope_access;
using detail::tls;

namespace {

void check_thread(const detail::runner* owner, const char* caller) {
    if (owner && tls.run != owner)
        throw run_error(std::string(caller) +
                        ": called from a thread that is not running this scope's trellis run; "
                        "post the call through trellis::token::run_sync_soon");
}

}  // namespace

cancel_scope::cancel_scope() noexcept = default;

cancel_scope::cancel_scope(time_point deadline, bool shield) noexcept : shield_(shield) {
    timer_.when = deadline;
}

cancel_scope::~cancel_scope() {
    if (stage_ != stage::entered || !parent_) return;  // never entered, exited, or a run's root
    // Only an abandoned run destroys an entered scope (its task's frame is
    // destroyed without resuming); anything else is a caller bug.
    if (!runner_ || !runner_->abandoning())
        std::fprintf(stderr, "trellis: a cancel_scope was destroyed while still entered\n");
    if (runner_) runner_->disarm_timer(timer_);
    while (auto* t = tasks_.front()) tasks_.remove(t);
    while (auto* c = children_.front()) {
        children_.remove(c);
        c->parent_ = nullptr;
    }
    if (parent_) parent_->children_.remove(this);
}

void cancel_scope::set_deadline(time_point deadline) {
    check_thread(runner_, "cancel_scope::set_deadline");
    timer_.when = deadline;
    if (stage_ != stage::entered) return;
    if (deadline == inf)
        runner_->disarm_timer(timer_);
    else
        runner_->arm_timer(timer_, deadline);
}

void cancel_scope::set_shield(bool shield) {
    check_thread(runner_, "cancel_scope::set_shield");
    if (shield_ == shield) return;
    shield_ = shield;
    if (stage_ == stage::entered) scope_access::recalculate(*this);
}

bool cancel_scope::cancel_called() const noexcept {
    if (cancel_called_ || stage_ == stage::exited || timer_.when == inf) return cancel_called_;
    // Not cancelled yet, but maybe its deadline has passed and the
    // scheduler has not processed it yet: look at the clock, as Trio does.
    runner* r = runner_ ? runner_ : tls.run;
    if (!r || tls.run != r) return cancel_called_;
    try {
        if (r->now() >= timer_.when) const_cast<cancel_scope*>(this)->cancel();
    } catch (...) {
        // A clock that throws is the scheduler's problem, reported there.
    }
    return cancel_called_;
}

void cancel_scope::cancel() {
    check_thread(runner_, "cancel_scope::cancel");
    if (cancel_called_) return;
    cancel_called_ = true;
    if (stage_ == stage::entered) {
        runner_->disarm_timer(timer_);
        scope_access::recalculate(*this);
        runner_->note_outside_change();
    }
}

namespace detail {

void scope_access::make_root(cancel_scope& scope, runner& r) noexcept {
    scope.runner_ = &r;
    scope.stage_ = cancel_scope::stage::entered;
}

void scope_access::attach_task(cancel_scope& s, task_state& t) noexcept {
    s.tasks_.push_back(&t);
    t.scope = &s;
}

void scope_access::detach_task(cancel_scope& s, task_state& t) noexcept {
    s.tasks_.remove(&t);
    t.scope = nullptr;
}

void scope_access::enter(cancel_scope& scope, const char* caller) {
    task_state& t = current_task_or_throw(caller);
    if (scope.stage_ != cancel_scope::stage::fresh)
        throw run_error(std::string(caller) +
                        ": this cancel_scope was already entered; a scope can be entered only "
                        "once, so make a new one");
    runner& r = *t.owner;
    cancel_scope& parent = *t.scope;
    scope.runner_ = &r;
    scope.parent_ = &parent;
    parent.children_.push_back(&scope);
    detach_task(parent, t);
    attach_task(scope, t);
    scope.stage_ = cancel_scope::stage::entered;
    scope.timer_.fire = &scope_access::fire_deadline;
    scope.timer_.owner = &scope;
    if (scope.timer_.when != inf) {
        if (scope.timer_.when <= r.now())
            scope.cancel_called_ = true;
        else
            r.arm_timer(scope.timer_, scope.timer_.when);
    }
    scope.effectively_cancelled_ =
        scope.cancel_called_ || (parent.effectively_cancelled_ && !scope.shield_);
}

std::exception_ptr scope_access::exit(cancel_scope& scope, std::exception_ptr error) noexcept {
    runner& r = *scope.runner_;
    task_state& t = *tls.task;
    // Invariant: scopes are left in the reverse order they were entered,
    // and everything that ran inside has finished.
    assert(t.scope == &scope && "trellis bug: cancel scopes exited out of order");
    assert(scope.children_.empty() && "trellis bug: a scope exited with live child scopes");
    cancel_scope& parent = *scope.parent_;
    detach_task(scope, t);
    attach_task(parent, t);
    assert(scope.tasks_.empty() && "trellis bug: a scope exited with tasks still inside");
    r.disarm_timer(scope.timer_);
    // The scope catches the cancellations that are its own: it is
    // cancelled, and no outer cancellation reaches it. They may travel
    // inside a group, next to real errors, which go on without them.
    const bool parent_cancel_visible = parent.effectively_cancelled_ && !scope.shield_;
    if (error && scope.effectively_cancelled_ && !parent_cancel_visible) {
        bool removed = false;
        error = without_cancellations(r, error, removed);
        if (removed) scope.cancelled_caught_ = true;
    }
    parent.children_.remove(&scope);
    scope.parent_ = nullptr;
    scope.stage_ = cancel_scope::stage::exited;
    return error;
}

void scope_access::recalculate(cancel_scope& scope) {
    // Depth first, parents before children, with an explicit stack: scope
    // trees can be deep (recursive nurseries) and this must not overflow.
    std::vector<cancel_scope*> todo{&scope};
    while (!todo.empty()) {
        cancel_scope& s = *todo.back();
        todo.pop_back();
        const bool now_cancelled =
            s.cancel_called_ || (s.parent_ && s.parent_->effectively_cancelled_ && !s.shield_);
        if (now_cancelled == s.effectively_cancelled_) continue;
        s.effectively_cancelled_ = now_cancelled;
        if (now_cancelled) s.tasks_.for_each([&](task_state* t) { t->owner->deliver_cancel(*t); });
        s.children_.for_each([&](cancel_scope* c) { todo.push_back(c); });
    }
}

void scope_access::fire_deadline(timer& t) { static_cast<cancel_scope*>(t.owner)->cancel(); }

void scope_access::move_children(cancel_scope& from, cancel_scope& to, task_state* keep) {
    std::vector<cancel_scope*> moved_scopes;
    while (cancel_scope* c = from.children_.front()) {
        from.children_.remove(c);
        to.children_.push_back(c);
        c->parent_ = &to;
        moved_scopes.push_back(c);
    }
    std::vector<task_state*> moved_tasks;
    from.tasks_.for_each([&](task_state* t) {
        if (t == keep) return;
        detach_task(from, *t);
        attach_task(to, *t);
        moved_tasks.push_back(t);
    });
    for (cancel_scope* c : moved_scopes) recalculate(*c);
    if (to.effectively_cancelled_)
        for (task_state* t : moved_tasks) t->owner->deliver_cancel(*t);
}

}  // namespace detail

time_point current_effective_deadline() {
    detail::task_state& t = detail::current_task_or_throw("trellis::current_effective_deadline");
    if (scope_access::effectively_cancelled(*t.scope)) return neg_inf;
    time_point earliest = inf;
    for (const cancel_scope* s = t.scope; s; s = scope_access::parent(*s)) {
        earliest = std::min(earliest, s->deadline());
        if (s->shield()) break;
    }
    return earliest;
}

}  // namespace trellis

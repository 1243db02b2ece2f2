#include "runner.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <typeinfo>

#include "trellis/cancelled.hpp"
#include "trellis/exception_group.hpp"

namespace trellis::detail {

namespace {

runner& claim_thread(runner& r) {
    if (tls.run)
        throw run_error(
            "trellis::run: a trellis run is already active on this thread; co_await the "
            "function inside the run instead of starting a nested one");
    tls.run = &r;
    return r;
}

// An internal_error for `original`, saying where it came from, unless it is
// one already.
std::exception_ptr as_internal_error(const std::exception_ptr& original, const char* where) {
    try {
        std::rethrow_exception(original);
    } catch (const internal_error&) {
        return original;
    } catch (...) {
        // std::nested_exception keeps the error being handled: `original`.
        return std::make_exception_ptr(internal_error(std::string("trellis: ") + where + ": " + describe(original)));
    }
}

std::shared_ptr<trellis::clock> clock_or_default(const run_options& options) {
    if (options.clock) return options.clock;
    return std::make_shared<system_clock>();
}

// The root task: opens the system nursery and runs the main task in it.
// When the main task ends, the system nursery is cancelled, so system tasks
// end too; errors of system tasks come out of the nursery and end up as
// the root task's exit error, which is the run's crash error.
task<> root_body(runner* r, std::function<task<>()> main) {
    co_await open_nursery([r, &main](nursery& system) -> task<> {
        r->set_system_nursery(&system);
        system.start_soon(named("<main>"), [r, &main]() -> task<> {
            co_await main();
            r->system_nursery()->cancel_scope().cancel();
        });
        co_return;
    });
    r->set_system_nursery(nullptr);
}

}  // namespace

runner::runner(const run_options& options)
    : entries_(std::make_shared<entry_queue>()),
      io_(entries_->fd()),
      clock_(clock_or_default(options)),
      instruments_(options.instruments),
      cancelled_(std::make_exception_ptr(cancelled_factory::make())),
      strict_groups_(options.strict_exception_groups) {
    claim_thread(*this);
    scope_access::make_root(root_scope_, *this);
    clock_->start_clock();
    notify_instruments(&lowlevel::instrument::before_run);
}

runner::~runner() {
    if (!root_exited_) abandon();
    if (!finished_) {
        entries_->close();
        clock_->stop_clock();
    }
    if (tls.run == this) tls = {};
}

void runner::start(std::function<task<>()> main) {
    task_root root = make_task_root(&root_body, this, std::move(main));
    task_state& t = root.release().promise();
    t.owner = this;
    t.id = next_task_id_++;
    t.name = std::make_unique<std::string>("<root>");
    root_ = &t;
    ++tasks_living_;
    scope_access::attach_task(root_scope_, t);
    t.resume_point = task_root::handle::from_promise(static_cast<task_root::promise_type&>(t));
    t.phase = task_phase::runnable;
    runq_.push_back(&t);
    notify_instruments(&lowlevel::instrument::task_spawned, lowlevel::task_handle(&t));
    notify_instruments(&lowlevel::instrument::task_scheduled, lowlevel::task_handle(&t));
    // Run the root task's first step now: it opens the system nursery and
    // queues the main task. So once start() returns, the run is initialised
    // (spawn_system_task works) although the main task has not run yet.
    in_step_ = true;
    run_batch();
    in_step_ = false;
}

// ---- The step. ----

duration runner::step(std::span<const epoll_event> events) {
    in_step_ = true;
    duration wait = duration::zero();
    try {
        const bool woken = !events.empty() && io_.dispatch(events, *this);
        if (woken) run_posted_callbacks();
        if (!deadlines_.empty()) fire_deadlines();
        if (woken) idle_primed_ = idle_kind::none;  // a forced wake-up is not idleness
        if (idle_primed_ != idle_kind::none) handle_idleness();
        run_batch();
        wait = next_wait();
        check_invariants();
    } catch (...) {
        // Tasks' errors never get here (their frames keep them); this is the
        // scheduler itself failing, or a clock that threw.
        fail(std::current_exception(), "the scheduler failed");
    }
    in_step_ = false;
    return wait;
}

void runner::fail(std::exception_ptr error, const char* where) noexcept {
    crash_ = as_internal_error(error, where);
    abandon();
}

void runner::run_posted_callbacks() {
    for (auto& callback : entries_->take()) {
        try {
            callback();
        } catch (...) {
            crash(std::current_exception());
        }
    }
}

void runner::fire_deadlines() {
    if (deadlines_.empty()) return;
    const time_point now = clock_->current_time();
    while (!deadlines_.empty() && deadlines_.top()->when <= now) {
        timer& due = *deadlines_.top();
        deadlines_.disarm(due);
        due.fire(due);
    }
}

void runner::handle_idleness() {
    const idle_kind primed = std::exchange(idle_primed_, idle_kind::none);
    if (primed == idle_kind::none || !runq_.empty()) return;
    if (primed == idle_kind::idle_waiters) {
        // Wake everyone with the smallest cushion; larger cushions wait on.
        const duration cushion = idle_waiters_.begin()->first.first;
        while (!idle_waiters_.empty() && idle_waiters_.begin()->first.first == cushion) {
            task_state* t = idle_waiters_.begin()->second;
            idle_waiters_.erase(idle_waiters_.begin());
            reschedule(*t, nullptr);
        }
    } else {
        const time_point next = deadlines_.earliest();
        if (next == inf) return;
        clock_->autojump(next);
        fire_deadlines();
    }
}

void runner::run_batch() {
    assert(batch_.empty());
    batch_.swap(runq_);
    for (task_state* t : batch_) resume(*t);
    batch_.clear();
}

duration runner::next_wait() {
    idle_primed_ = idle_kind::none;
    if (!runq_.empty()) return duration::zero();
    duration timeout =
        deadlines_.empty() ? duration::max() : clock_->deadline_to_sleep_time(deadlines_.earliest());
    if (!idle_waiters_.empty()) {
        const duration cushion = idle_waiters_.begin()->first.first;
        if (cushion < timeout) {
            timeout = cushion;
            idle_primed_ = idle_kind::idle_waiters;
        }
    } else if (!deadlines_.empty()) {
        // Tasks in wait_all_tasks_blocked wake without moving the clock, so
        // autojump only matters when there are none. With no deadline there
        // is nowhere to jump to (priming anyway would spin on a zero wait).
        const duration threshold = clock_->autojump_threshold();
        if (threshold < timeout) {
            timeout = threshold;
            idle_primed_ = idle_kind::autojump;
        }
    }
    return std::max(timeout, duration::zero());
}

// Debug builds check the scheduler's invariants after every step; a broken
// one ends the run with internal_error (through step's catch) instead of
// running on in a corrupt state.
void runner::check_invariants() const {
#ifndef NDEBUG
    auto require = [](bool ok, const char* what) {
        if (!ok) throw std::logic_error(std::string("trellis bug: ") + what);
    };
    for (const task_state* t : runq_)
        require(t->phase == task_phase::runnable, "a task on the run queue is not runnable");
    require(batch_.empty(), "the batch buffer was not cleared");
    if (deadlines_.size() <= 64) require(deadlines_.valid(), "the deadline heap is corrupt");
    require(root_exited_ || root_ == nullptr || root_->phase != task_phase::exited,
            "the root task exited without being reported");
#endif
}

// ---- Task transitions. ----

void runner::resume(task_state& t) {
    assert(t.phase == task_phase::runnable);
    tls.task = &t;
    t.phase = task_phase::running;
    if (!instruments_.empty()) notify_instruments(&lowlevel::instrument::before_task_step, lowlevel::task_handle(&t));
    t.resume_point.resume();
    // The task is still the current one while after_task_step runs.
    if (!instruments_.empty()) notify_instruments(&lowlevel::instrument::after_task_step, lowlevel::task_handle(&t));
    tls.task = nullptr;
    assert(t.phase != task_phase::running &&
           "trellis bug: a task suspended without going through the scheduler");
    if (t.phase == task_phase::exited) task_exited(t);
}

void runner::notify_scheduled(task_state& t) {
    notify_instruments(&lowlevel::instrument::task_scheduled, lowlevel::task_handle(&t));
}

void runner::block(task_state& t, std::coroutine_handle<> resume_point, abort_ref abort) {
    t.resume_point = resume_point;
    t.on_abort = abort;
    t.phase = task_phase::blocked;
    ++t.schedule_points;
    ++t.cancel_points;
    if (scope_access::effectively_cancelled(*t.scope)) deliver_cancel(t);
}

void runner::reschedule(task_state& t, std::exception_ptr error) {
    if (t.phase != task_phase::blocked)
        throw run_error(
            "lowlevel::reschedule: the task is not blocked in wait_task_rescheduled (it is "
            "running, already rescheduled, or finished)");
    t.on_abort = {};
    t.resume_error = std::move(error);
    t.phase = task_phase::runnable;
    runq_.push_back(&t);
    if (!instruments_.empty()) notify_instruments(&lowlevel::instrument::task_scheduled, lowlevel::task_handle(&t));
    note_outside_change();
}

void runner::deliver_cancel(task_state& t) {
    if (t.phase != task_phase::blocked || !t.on_abort) return;
    // Abort is attempted once per blocking call, whatever it answers.
    const abort_ref abort = std::exchange(t.on_abort, {});
    if (abort.call(abort.self, cancelled_) == lowlevel::abort_result::succeeded)
        reschedule(t, cancelled_);
}

// The caller (detail::spawn) has already checked that `into` is open.
void runner::spawn(nursery& into, task_root root, spawn_name name, bool system) {
    task_state& t = root.release().promise();
    t.owner = this;
    t.id = next_task_id_++;
    t.origin = name.origin;
    t.origin_is_function = name.origin_is_function;
    if (name.explicit_name) t.name = std::make_unique<std::string>(*name.explicit_name);
    // Task-local values are inherited from whoever spawns the task (a host
    // callback spawning into a nursery passes on the nursery owner's).
    // System tasks start from the run's own (empty) values, as in Trio.
    if (!system) t.locals = (tls.task ? tls.task : nursery_access::parent_task(into))->locals;
    nursery_access::add_child(into, t);
    t.resume_point = task_root::handle::from_promise(static_cast<task_root::promise_type&>(t));
    t.phase = task_phase::runnable;
    runq_.push_back(&t);
    ++tasks_living_;
    if (!instruments_.empty()) {
        notify_instruments(&lowlevel::instrument::task_spawned, lowlevel::task_handle(&t));
        notify_instruments(&lowlevel::instrument::task_scheduled, lowlevel::task_handle(&t));
    }
    note_outside_change();
}

void runner::task_exited(task_state& t) {
    if (!instruments_.empty()) notify_instruments(&lowlevel::instrument::task_exited, lowlevel::task_handle(&t));
    auto frame = task_root::handle::from_promise(static_cast<task_root::promise_type&>(t));
    --tasks_living_;
    if (&t == root_) {
        scope_access::detach_task(root_scope_, t);
        // The main task's own outcome never gets here (run() captures it),
        // so what does is an error with no task to go to.
        if (!crash_ && t.exit_error) crash_ = as_internal_error(t.exit_error, "a system task raised");
        root_exited_ = true;
        root_ = nullptr;
        frame.destroy();
        return;
    }
    nursery_access::remove_child(*t.parent_nursery, t);
    frame.destroy();
}

void runner::crash(std::exception_ptr original) {
    std::exception_ptr error = as_internal_error(original, "a token::run_sync_soon callback raised");
    if (system_nursery_ && !system_nursery_->closed()) {
        nursery_access::add_error(*system_nursery_, std::move(error));
    } else if (!crash_) {
        crash_ = std::move(error);
    } else {
        std::fprintf(stderr, "trellis: a second error arrived after the run crashed: %s\n",
                     describe(error).c_str());
    }
}

bool runner::is_cancelled(const std::exception_ptr& error) const noexcept {
    if (!error) return false;
    if (error == cancelled_) return true;
#if defined(__GLIBCXX__) && defined(__cpp_rtti)
    // libstdc++ can name the type without a throw. Every cancellation a
    // task sees is a fresh object (see throw_cancelled), so a nursery
    // collecting 10,000 of them must not rethrow each one to look at it.
    if (const std::type_info* type = error.__cxa_exception_type()) return *type == typeid(cancelled);
#endif
    try {
        std::rethrow_exception(error);
    } catch (const cancelled&) {
        return true;
    } catch (...) {
        return false;
    }
}

lowlevel::run_statistics runner::statistics() const {
    lowlevel::run_statistics stats;
    stats.tasks_living = tasks_living_;
    stats.tasks_runnable = runq_.size();
    if (!deadlines_.empty()) {
        const time_point next = deadlines_.earliest();
        const time_point now = clock_->current_time();
        stats.time_to_next_deadline = next <= now ? duration::zero() : next - now;
    }
    stats.run_sync_soon_queue_size = entries_->size();
    const auto [readers, writers] = io_.waiters_by_direction();
    stats.io.tasks_waiting_read = readers;
    stats.io.tasks_waiting_write = writers;
    return stats;
}

void runner::arm_timer(timer& t, time_point when) {
    deadlines_.arm(t, when);
    note_outside_change();
}

// ---- Idle waiters and autojump. ----

std::uint64_t runner::add_idle_waiter(duration cushion, task_state& t) {
    const std::uint64_t ticket = next_ticket_++;
    idle_waiters_.emplace(std::make_pair(cushion, ticket), &t);
    return ticket;
}

void runner::remove_idle_waiter(duration cushion, std::uint64_t ticket) noexcept {
    idle_waiters_.erase(std::make_pair(cushion, ticket));
}

// ---- Instruments. ----

template <class Hook, class... Args>
void runner::notify_instruments(Hook hook, Args... args) {
    // Iterate over a snapshot: a hook may add or remove instruments
    // (itself included), which must not make another instrument miss this
    // event or see it twice.
    const auto snapshot = instruments_;
    for (const auto& inst : snapshot) {
        try {
            ((*inst).*hook)(args...);
        } catch (...) {
            std::fprintf(stderr, "trellis: an instrument raised %s; removing it from the run\n",
                         describe(std::current_exception()).c_str());
            auto it = std::find(instruments_.begin(), instruments_.end(), inst);
            if (it != instruments_.end()) instruments_.erase(it);
        }
    }
}

void runner::add_instrument(std::shared_ptr<lowlevel::instrument> inst) {
    if (std::find(instruments_.begin(), instruments_.end(), inst) == instruments_.end())
        instruments_.push_back(std::move(inst));
}

void runner::remove_instrument(const std::shared_ptr<lowlevel::instrument>& inst) {
    auto it = std::find(instruments_.begin(), instruments_.end(), inst);
    if (it == instruments_.end())
        throw run_error("lowlevel::remove_instrument: this instrument is not installed in the run");
    instruments_.erase(it);
}

void runner::notify_io_wait(bool before, duration timeout) {
    notify_instruments(before ? &lowlevel::instrument::before_io_wait : &lowlevel::instrument::after_io_wait, timeout);
}

// ---- The end of a run. ----

void runner::finish() {
    assert(root_exited_);
    for (auto& callback : entries_->close()) {
        try {
            callback();
        } catch (...) {
            crash(std::current_exception());
        }
    }
    notify_instruments(&lowlevel::instrument::after_run);
    clock_->stop_clock();
    finished_ = true;
}

// Destroys every task frame, children before parents, without resuming
// anything. Awaiters and scopes unlink themselves as their frames die.
void runner::abandon() noexcept {
    struct walker {
        runner& r;
        void destroy(task_state& t) {
            // Children live in the nurseries this task has open.
            for (nursery* n = t.innermost_nursery; n; n = nursery_access::outer(*n)) {
                while (task_state* child = nursery_access::first_child(*n)) {
                    destroy(*child);
                }
            }
            if (t.parent_nursery) nursery_access::remove_child_silently(*t.parent_nursery, t);
            if (t.scope) scope_access::detach_task(*t.scope, t);
            task_root::handle::from_promise(static_cast<task_root::promise_type&>(t)).destroy();
        }
    };
    abandoning_ = true;
    if (root_) walker{*this}.destroy(*root_);
    root_ = nullptr;
    root_exited_ = true;
    tasks_living_ = 0;
    runq_.clear();
    idle_waiters_.clear();
}

}  // namespace trellis::detail

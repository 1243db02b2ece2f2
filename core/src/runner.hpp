// Internal: the runner, trellis's scheduler. One per run.
//
// The runner never blocks by itself. A driver (run() in run.cpp, or the
// guest driver) calls step(events) over and over; each step
//
//   1. dispatches the I/O events of the wait that just ended,
//   2. runs the callbacks other threads posted through the token,
//   3. fires the deadlines that have passed,
//   4. wakes idle waiters / autojumps the mock clock if the run was idle,
//   5. runs one batch: every task that was runnable when the batch began,
//   6. says how long the next I/O wait may last.
//
// The driver then waits for I/O at most that long and calls step again.
// Events are handled first so that the tasks they wake run in the same step
// (one epoll_wait per I/O round trip). Tasks made runnable during a batch
// run in the next batch, after I/O has been polled again, so a busy task
// can starve neither the others nor the I/O (nor the host loop).
//
// Thread rule. Every field below is touched only on the run's thread, the
// thread whose thread_local context points at this runner: the thread in
// trellis::run, or the host thread of a guest run. Other threads reach the
// run only through entry_queue (the token), and the guest worker only calls
// io_manager::wait.
//
// When a task may be rescheduled: a task is in exactly one phase (see
// task_phase). Only a blocked task may be rescheduled, once; a running task
// becomes runnable only through its own checkpoint; an exited task is gone.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "entry_queue.hpp"
#include "epoll.hpp"
#include "timer_heap.hpp"
#include "trellis/cancel_scope.hpp"
#include "trellis/cancelled.hpp"
#include "trellis/detail/thread_context.hpp"
#include "trellis/instrument.hpp"
#include "trellis/nursery.hpp"
#include "trellis/run.hpp"
#include "trellis/run_statistics.hpp"

namespace trellis::detail {

// The one place that constructs trellis::cancelled.
struct cancelled_factory {
    static cancelled make() { return cancelled(); }
};

class runner {
public:
    // Binds the run to this thread. Throws run_error if a run is already
    // active here.
    explicit runner(const run_options& options);
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    // ---- The driver's side. ----

    // Creates the root task and runs its first step, which opens the system
    // nursery and queues `main` there. Call once, before the first step.
    void start(std::function<task<>()> main);
    // One scheduling step (see the top of this file). Returns the longest
    // the next I/O wait may last: zero if something is runnable,
    // duration::max() if only I/O or another thread can wake the run.
    duration step(std::span<const epoll_event> events);
    // True once the root task has exited.
    bool done() const noexcept { return root_exited_; }
    // Runs the last posted callbacks, refuses further posts, tells the
    // instruments and the clock. Call once, after done().
    void finish();
    // The error that crashed the run: a trellis::internal_error holding a
    // system task's or a callback's error, or the scheduler's own failure.
    std::exception_ptr crash_error() const noexcept { return crash_; }
    io_manager& io() noexcept { return io_; }
    // False when a zero-timeout I/O poll cannot find anything: no task
    // waits on an fd and no wake-up is pending on the entry queue (a later
    // wake-up writes the eventfd again, so the next real wait sees it).
    // Drivers then skip the poll between busy batches: that syscall would
    // cost far more than the batch itself (a checkpoint is tens of ns).
    bool io_poll_useful() const noexcept { return io_.waiter_count() > 0 || entries_->wake_pending(); }
    // Instrument hooks around the driver's I/O wait. Inline: the run loop
    // calls them around every batch, and usually no instrument is installed.
    void before_io_wait(duration timeout) {
        if (!instruments_.empty()) notify_io_wait(true, timeout);
    }
    void after_io_wait(duration timeout) {
        if (!instruments_.empty()) notify_io_wait(false, timeout);
    }
    // Abandons the run without resuming anything: destroys every task frame.
    void abandon() noexcept;

    // ---- The scheduler's services. ----

    // blocked -> runnable, with an error the task's wait will throw.
    // Throws run_error if the task is not blocked.
    void reschedule(task_state& t, std::exception_ptr error);
    // The running task yields: running -> runnable. Inline because it is
    // all the scheduler does for a checkpoint, the hottest path there is.
    void yield_current(task_state& t, std::coroutine_handle<> resume_point) {
        t.resume_point = resume_point;
        t.phase = task_phase::runnable;
        ++t.schedule_points;
        runq_.push_back(&t);
        if (!instruments_.empty()) notify_scheduled(t);
    }
    // The running task blocks: running -> blocked; delivers a pending
    // cancellation at once.
    void block(task_state& t, std::coroutine_handle<> resume_point, abort_ref abort);
    // Asks a blocked task's abort callback to give up, if its scope is
    // effectively cancelled.
    void deliver_cancel(task_state& t);
    // A new task in `into`, runnable. A system task starts from the run's
    // own (empty) task-local values; any other inherits its spawner's.
    void spawn(nursery& into, task_root root, spawn_name name, bool system);
    // Records an error that must end the run (a callback's; it is wrapped
    // in internal_error). Cancels everything.
    void crash(std::exception_ptr error);

    void arm_timer(timer& t, time_point when);
    void disarm_timer(timer& t) noexcept { deadlines_.disarm(t); }

    trellis::clock& clock() noexcept { return *clock_; }
    lowlevel::run_statistics statistics() const;
    time_point now() { return clock_->current_time(); }
    // The `cancelled` error of this run, for where an exception_ptr is
    // needed (an abort callback's argument, a rescheduled task's error).
    // What tasks see thrown is a fresh copy (see throw_cancelled), so
    // is_cancelled recognises cancellations by type, not identity.
    const std::exception_ptr& cancelled_error() const noexcept { return cancelled_; }
    bool is_cancelled(const std::exception_ptr& error) const noexcept;
    bool strict_exception_groups() const noexcept { return strict_groups_; }

    std::shared_ptr<entry_queue> entries() const noexcept { return entries_; }
    task_state* root_task() const noexcept { return root_; }
    nursery* system_nursery() const noexcept { return system_nursery_; }
    void set_system_nursery(nursery* n) noexcept { system_nursery_ = n; }

    void add_instrument(std::shared_ptr<lowlevel::instrument> inst);
    void remove_instrument(const std::shared_ptr<lowlevel::instrument>& inst);

    // wait_all_tasks_blocked support.
    std::uint64_t add_idle_waiter(duration cushion, task_state& t);
    void remove_idle_waiter(duration cushion, std::uint64_t ticket) noexcept;

    std::shared_ptr<void>& run_var_slot(const void* key) { return run_vars_[key]; }

    // Hook for the guest driver: called when code outside a step (a host
    // callback) changes what the scheduler would do, so the in-flight I/O
    // wait must end now. Does nothing under trellis::run.
    void note_outside_change() noexcept {
        if (!in_step_ && wait_in_flight_) entries_->wake();
    }
    void set_wait_in_flight(bool in_flight) noexcept { wait_in_flight_ = in_flight; }

private:
    void run_posted_callbacks();
    void fire_deadlines();
    void handle_idleness();
    void run_batch();
    duration next_wait();

    void resume(task_state& t);
    void task_exited(task_state& t);
    void check_invariants() const;
    // The scheduler itself failed (an invariant broke, the clock threw):
    // records an internal_error and abandons every task.
    void fail(std::exception_ptr error, const char* where) noexcept;

    template <class Hook, class... Args>
    void notify_instruments(Hook hook, Args... args);
    void notify_scheduled(task_state& t);
    void notify_io_wait(bool before, duration timeout);

    // Invariant: every task on runq_ is in phase runnable and appears once.
    std::vector<task_state*> runq_;
    std::vector<task_state*> batch_;  // the batch being run (reused buffer)
    timer_heap deadlines_;
    std::shared_ptr<entry_queue> entries_;
    io_manager io_;
    std::shared_ptr<trellis::clock> clock_;
    std::vector<std::shared_ptr<lowlevel::instrument>> instruments_;
    std::exception_ptr cancelled_;
    std::exception_ptr crash_;
    // The scope every task ultimately sits in; never cancelled.
    cancel_scope root_scope_;
    task_state* root_ = nullptr;
    nursery* system_nursery_ = nullptr;
    std::size_t tasks_living_ = 0;
    // Tasks in wait_all_tasks_blocked, smallest cushion first.
    std::map<std::pair<duration, std::uint64_t>, task_state*> idle_waiters_;
    std::uint64_t next_ticket_ = 0;
    std::uint64_t next_task_id_ = 0;
    std::unordered_map<const void*, std::shared_ptr<void>> run_vars_;
    // What the last computed wait was for: if it ends with nothing to do,
    // the run was idle for that long.
    enum class idle_kind : unsigned char { none, idle_waiters, autojump } idle_primed_ = idle_kind::none;
    bool root_exited_ = false;
    bool in_step_ = false;
    bool wait_in_flight_ = false;
    bool strict_groups_ = false;
    bool finished_ = false;
    bool abandoning_ = false;

public:
    // True while abandon() destroys frames: destructors of scopes and
    // awaiters then unlink themselves instead of reporting misuse.
    bool abandoning() const noexcept { return abandoning_; }
};

inline runner& task_runner(task_state& t) noexcept { return *t.owner; }

}  // namespace trellis::detail

// The guest driver: runs the runner's steps as callbacks on a host loop,
// and waits for I/O in one of two ways (run_options::guest_io): on one
// worker thread (the default), or through the host loop itself
// (host-native mode).
//
// The chain of control. At any moment exactly one of these holds the run's
// next step: a step callback posted to the host, the worker's in-flight
// wait, which ends by posting a step callback, or (host-native mode) the
// armed native waiter, whose readiness callback runs the step. So steps
// never overlap, and a wait never overlaps a step (the thread rule of
// DESIGN §3).
//
//   step (host thread) --nothing runnable, nothing ready--> worker waits
//        ^    |     \                                          |
//        |    |      +--(host-native)--> host watches epoll fd  |
//        |    |                          + deadline timer       |
//        |    +--runnable or ready: post locally---+     |      |
//        +-------------------------------------------<---+------+ posts back
//                                          (native: runs the step directly)
//
// Before waiting, the step polls epoll without blocking on the host thread;
// a busy run never involves the thread or the host's watch. A busy run also
// keeps stepping within one host callback for up to a slice of time
// (busy_slice), then posts its next step and lets the host run.
//
// Worker mode. The worker is a thread of core's thread cache
// (lowlevel::start_thread_soon), borrowed for one wait at a time.
// Everything about a wait travels in one io_wait object: the timeout goes to
// the worker with it, and the events (or the error) come back with it
// inside the step message the worker posts. The driver keeps only a pointer
// to the wait in flight, which is also how teardown finds a worker to wake.
//
// Host-native mode. At start the host makes a native_waiter on the epoll fd
// (guest.hpp states its contract). An idle step arms it with the timeout
// to the next deadline; when the epoll fd turns readable or the timeout
// passes, the host loop calls native_ready on the host thread, which polls
// epoll with timeout zero (the epoll fd is level-triggered, so nothing is
// lost) and steps. No thread, no cross-thread post. The waiter lives from
// start to teardown and is destroyed before the epoll fd closes; the driver
// holds itself (self_) meanwhile, as a worker's job holds it in worker
// mode.
//
// Host code that changes the scheduler's plans while the run waits (an
// event set from a Qt slot, a deadline moved) calls
// runner::note_outside_change, which writes the entry queue's eventfd
// while a wait is in flight (worker or native); the worker's epoll_wait
// returns, or the epoll fd turns readable and the host's watch fires, and
// the next step sees the change. token::run_sync_soon from other threads
// writes the same eventfd.
//
// Abandonment. Every posted step callback carries a ticket. A ticket that
// dies without having run means the host destroyed our callback: the host
// loop is gone. The adapter reports the same through guest_run::host_gone()
// when the worker or the native waiter holds the chain. Either way the run
// is torn down on the host thread: the worker is stopped or the waiter
// destroyed, every task frame destroyed unresumed, and the done callback is
// not called.

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runner.hpp"
#include "trellis/guest.hpp"
#include "trellis/thread_cache.hpp"

namespace trellis::detail {

namespace {
// What the exception being handled says, for a message on stderr.
std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}
}  // namespace

// One blocking I/O wait handed to a worker thread, and what it found. The
// host thread fills in `timeout` and `events` (an empty buffer to reuse)
// before handing it over; the worker owns `events` and `error` until it
// posts the step message that carries this object back; after that the
// host thread owns them again.
struct io_wait {
    duration timeout{};
    std::vector<epoll_event> events;
    std::exception_ptr error;
    // Set by the host thread when the run is torn down while the wait is in
    // flight: the worker must not post the step message.
    std::atomic<bool> abandoned{false};
    // Set by the worker as its last access to the run (after it has posted,
    // or decided not to): from then on it touches neither the runner nor
    // the host. Teardown waits for it.
    std::atomic<bool> worker_done{false};
};

class guest_driver : public std::enable_shared_from_this<guest_driver> {
public:
    guest_driver(const run_options& options, guest_host host, std::function<void(std::exception_ptr)> finish)
        : host_(std::move(host)),
          finish_(std::move(finish)),
          host_thread_(std::this_thread::get_id()),
          runner_(std::make_unique<runner>(options)),
          native_(options.guest_io == guest_io_mode::host_native) {
        if (!host_.run_sync_soon_not_threadsafe) host_.run_sync_soon_not_threadsafe = host_.run_sync_soon_threadsafe;
    }

    ~guest_driver() {
        if (state_ == state::running && std::this_thread::get_id() != host_thread_) {
            // The last reference went away off the host thread: the worker's
            // post was dropped by a host that is gone, and nobody holds the
            // guest_run to report it from the host thread. Task frames and
            // the run's thread binding belong to the host thread, so they
            // cannot be torn down here; they are leaked, loudly.
            std::fprintf(stderr,
                         "trellis: a guest run's host loop went away while its worker thread was waiting, "
                         "and no guest_run handle was kept to report it (guest_run::host_gone); the run's "
                         "state is leaked\n");
            (void)runner_.release();
        }
        // (On the host thread there is no wait in flight here: a wait holds
        // a reference to the driver until its worker is done.)
    }

    void start(std::function<task<>()> main) {
        if (native_) {
            // The waiter's callback holds only a raw pointer: the driver
            // owns the waiter, and keeps itself alive through self_ while
            // the run lives (as a worker's job does in worker mode), so
            // that the run needs no guest_run handle.
            waiter_ = host_.make_native_waiter(runner_->io().fd(), [this] { native_ready(); });
            if (!waiter_)
                throw run_error("trellis::start_guest_run: guest_host::make_native_waiter returned no waiter");
        }
        runner_->start(std::move(main));
        post_step_locally();
        if (native_) self_ = shared_from_this();
    }

    bool finished() const noexcept { return state_ != state::running; }

    // Host thread only.
    void abandon() noexcept {
        if (state_ != state::running) return;
        state_ = state::abandoned;
        std::fprintf(stderr,
                     "trellis: the host event loop went away while a guest run was still running; "
                     "the run is abandoned (its tasks are destroyed unfinished and its done "
                     "callback will not run)\n");
        tear_down();
    }

    // A posted step callback was destroyed without running. On the host
    // thread that means the host loop is gone; off it (the worker's post
    // refused by a dying host), teardown must wait for the host thread
    // (task frames and the thread's run binding live there): the adapter's
    // guest_run::host_gone() does it.
    void callback_dropped() noexcept {
        if (std::this_thread::get_id() == host_thread_) abandon();
    }

private:
    enum class state : unsigned char { running, finished, abandoned };

    struct ticket {
        std::shared_ptr<guest_driver> driver;
        bool ran = false;
        ~ticket() {
            if (!ran && driver) driver->callback_dropped();
        }
    };

    // The step message. `ended` is the wait the worker finished, with its
    // results; empty for a step posted from the host thread.
    std::function<void()> make_step_callback(std::shared_ptr<io_wait> ended) {
        auto t = std::make_shared<ticket>();
        t->driver = shared_from_this();
        return [t, ended = std::move(ended)]() mutable {
            t->ran = true;
            t->driver->step(std::move(ended));
        };
    }

    // A host broke guest_host's contract by running our callback on another
    // thread. Touching the run from here would race with the host thread,
    // and there is no one to report an error to, so say so and stop.
    [[noreturn]] static void step_off_host_thread() noexcept {
        std::fprintf(stderr,
                     "trellis: a guest run's host ran a posted callback on a thread other than the one that "
                     "called start_guest_run; guest_host::run_sync_soon_threadsafe and "
                     "run_sync_soon_not_threadsafe must run callbacks on the host thread. Aborting.\n");
        std::abort();
    }

    // The thread rule of guest mode: a step is posted with
    // run_sync_soon_not_threadsafe only from the host thread, and with
    // run_sync_soon_threadsafe only from a worker (deliver).
    void post_step_locally() {
        assert(std::this_thread::get_id() == host_thread_ &&
               "trellis bug: guest_driver posted a local step off the host thread");
        host_.run_sync_soon_not_threadsafe(make_step_callback(nullptr));
    }

    // One host callback's worth of the run, in three phases: take in what
    // the worker's wait found (if this step ends one), run scheduler steps
    // while the run stays busy (up to busy_slice), then hand the next wait
    // to a worker or, still busy, post the next step.
    void step(std::shared_ptr<io_wait> ended) {
        if (std::this_thread::get_id() != host_thread_) step_off_host_thread();
        if (state_ != state::running) return;
        if (ended && !take_wait_results(*ended)) return;
        const duration timeout = run_busy_slice();
        if (state_ != state::running) return;  // completed or crashed
        if (timeout == duration::zero() || !events_.empty())
            post_step_locally();
        else if (native_)
            arm_native_wait(timeout);
        else
            hand_wait_to_worker(timeout);
    }

    // Phase 1. The wait is over: its events go to the next runner step.
    // False if the wait failed (the run is then torn down).
    bool take_wait_results(io_wait& ended) {
        // The worker may still be inside the host's post function (which
        // typically notifies after queueing). Let it get out first, so that
        // once the run is over nothing of ours touches the host: the host
        // may destroy its loop as soon as the done callback has run. Posts
        // do not block, so this wait is short.
        ended.worker_done.wait(false, std::memory_order_acquire);
        end_wait();
        runner_->after_io_wait(ended.timeout);
        if (ended.error) {
            crash_from_driver(ended.error);
            return false;
        }
        events_.swap(ended.events);
        spare_events_ = std::move(ended.events);  // the emptied buffer, kept for the next wait
        spare_events_.clear();
        return true;
    }

    // Phase 2. While the run stays busy, keep stepping inside this one host
    // callback: a trip through the host loop per step would cost many
    // times the step itself (a checkpoint is tens of ns, a host loop
    // iteration a microsecond or more). The host gets its thread back at
    // least every busy_slice, so its own events wait no longer. Returns
    // how long the next I/O wait may last: zero if the run is still busy
    // (the slice ran out), or if it ended (state_ says so).
    duration run_busy_slice() {
        const auto slice_start = std::chrono::steady_clock::now();
        unsigned next_look = 1;  // at which step to read the clock next
        for (unsigned steps = 1;; ++steps) {
            duration timeout;
            try {
                timeout = runner_->step(events_);
                events_.clear();
                if (runner_->done()) {
                    complete();
                    return duration::zero();
                }
                // Poll without blocking, here on the host thread: I/O must be
                // seen between busy batches too, and if something is ready the
                // worker thread need not be involved at all. An idle run in
                // host-native mode skips it: the host loop's own poll of the
                // epoll fd, which comes next, finds the same for one syscall
                // less per wait.
                if (native_ && timeout != duration::zero()) return timeout;
                if (runner_->io_poll_useful()) runner_->io().wait(duration::zero(), events_);
            } catch (...) {
                crash_from_driver(std::current_exception());
                return duration::zero();
            }
            if (timeout != duration::zero() && events_.empty()) return timeout;
            // Reading the clock can cost more than a short step: look again
            // about halfway through what is left of the slice at the pace
            // so far, and at least every max_look_stride steps.
            if (steps == next_look) {
                const auto elapsed = std::chrono::steady_clock::now() - slice_start;
                if (elapsed >= busy_slice) return duration::zero();
                const auto left_at_pace = (busy_slice - elapsed) * steps / std::max(elapsed, decltype(elapsed)(1));
                next_look = steps + static_cast<unsigned>(std::clamp<long long>(left_at_pace / 2, 1, max_look_stride));
            }
        }
    }

    // How long a busy run may keep the host thread per host callback.
    static constexpr std::chrono::microseconds busy_slice{1000};
    static constexpr long long max_look_stride = 64;

    // Phase 3, idle. A worker from the thread cache blocks in epoll for at
    // most `timeout`, then posts the step message carrying what it found.
    // While the wait is in flight no step callback exists, and the
    // application need not keep the guest_run handle: the worker's job
    // holds the driver until it has posted.
    void hand_wait_to_worker(duration timeout) {
        auto wait = std::make_shared<io_wait>();
        wait->timeout = timeout;
        wait->events = std::move(spare_events_);
        runner_->before_io_wait(timeout);
        begin_wait(wait);
        io_manager* io = &runner_->io();
        try {
            lowlevel::start_thread_soon(
                [wait, io] {
                    try {
                        io->wait(wait->timeout, wait->events);
                    } catch (...) {
                        wait->error = std::current_exception();
                    }
                },
                [self = shared_from_this(), wait]() mutable {
                    self->deliver(wait);
                    wait->worker_done.store(true, std::memory_order_release);
                    wait->worker_done.notify_all();
                    // Releasing `self` may destroy the driver, here on the
                    // worker (see the destructor).
                    self.reset();
                });
        } catch (...) {
            end_wait();
            crash_from_driver(std::current_exception());
        }
    }

    // Phase 3, idle, in host-native mode: the host loop watches the epoll
    // fd and the deadline (native_waiter) and calls native_ready. Host code
    // that changes the run's plans meanwhile goes through
    // runner::note_outside_change, which writes the entry queue's eventfd
    // while the wait-in-flight flag is set: that makes the epoll fd
    // readable, so the host's watch fires, as the worker's epoll_wait
    // would return. Token posts from other threads write the same eventfd.
    void arm_native_wait(duration timeout) {
        runner_->before_io_wait(timeout);
        native_timeout_ = timeout;
        native_armed_ = true;
        runner_->set_wait_in_flight(true);
        try {
            waiter_->arm(timeout);
        } catch (...) {
            disarm_native_wait();
            crash_from_driver(std::current_exception());
        }
    }

    void disarm_native_wait() noexcept {
        if (!native_armed_) return;
        native_armed_ = false;
        if (waiter_) waiter_->disarm();
        if (runner_) runner_->set_wait_in_flight(false);
    }

    // The host's watch fired (host thread, inside the host loop): the
    // epoll fd is readable or the deadline has come. Collect the ready
    // events without blocking, then step as for any other step. The waiter
    // may be destroyed in here (the run completes); nothing of it is
    // touched afterwards.
    void native_ready() {
        if (std::this_thread::get_id() != host_thread_) step_off_host_thread();
        if (state_ != state::running || !native_armed_) return;
        auto keep = shared_from_this();  // completion drops self_
        native_armed_ = false;
        runner_->set_wait_in_flight(false);
        runner_->after_io_wait(native_timeout_);
        try {
            runner_->io().wait(duration::zero(), events_);
        } catch (...) {
            crash_from_driver(std::current_exception());
            return;
        }
        step(nullptr);
    }

    // On the worker, after the wait: posts the step message with the
    // results, unless the run was torn down meanwhile.
    void deliver(const std::shared_ptr<io_wait>& wait) {
        if (wait->abandoned.load(std::memory_order_acquire)) return;
        assert(std::this_thread::get_id() != host_thread_ &&
               "trellis bug: guest_driver delivered a wait's result from the host thread");
        host_.run_sync_soon_threadsafe(make_step_callback(wait));
    }

    // The wait in flight, in one place: in_flight_ here and the runner's
    // flag (which tells note_outside_change to wake the worker) change
    // together, only in these two functions.
    void begin_wait(std::shared_ptr<io_wait> wait) {
        in_flight_ = std::move(wait);
        runner_->set_wait_in_flight(true);
    }
    void end_wait() {
        in_flight_.reset();
        if (runner_) runner_->set_wait_in_flight(false);
    }

    // Stops a wait in flight (the worker will not post) and waits until its
    // worker has let go of the run, so that the runner (and its epoll) can
    // be destroyed. Host thread.
    void stop_wait_in_flight() noexcept {
        auto wait = std::exchange(in_flight_, nullptr);
        if (!wait) return;
        wait->abandoned.store(true, std::memory_order_release);
        runner_->entries()->wake();  // ends the epoll_wait, or makes it return at once
        wait->worker_done.wait(false, std::memory_order_acquire);
        runner_->set_wait_in_flight(false);
    }

    // Destroys the native waiter (if any) before the epoll fd it watches
    // closes, and drops the run's hold on itself. Host thread.
    void stop_native_wait() noexcept {
        disarm_native_wait();
        waiter_.reset();
        // Dropped last: this may be the driver's last reference, but every
        // caller holds another while it still runs (the step's ticket,
        // native_ready's `keep`, the guest_run of host_gone).
        self_.reset();
    }

    void tear_down() noexcept {
        stop_wait_in_flight();
        stop_native_wait();
        runner_.reset();  // destroys every task frame, closes the token, unbinds the thread
    }

    void complete() {
        runner_->finish();
        std::exception_ptr crash = runner_->crash_error();
        tear_down();
        report_done(crash);
    }

    // An internal failure (epoll itself failing): tear down like an
    // abandonment, but report the error through the done callback.
    void crash_from_driver(std::exception_ptr error) {
        if (state_ != state::running) return;
        state_ = state::finished;
        tear_down();
        report_done(error);
    }

    // Calls the done callback, exactly once per run. It must not throw
    // (guest.hpp says so): there is nobody left to give the error to, and
    // letting it into the host loop would unwind through the host's frames
    // (C frames, for GLib and libevent). So breaking the rule is made loud
    // and final, as an exception leaving a noexcept function would be, but
    // with a message that names the done callback.
    void report_done(std::exception_ptr crash) noexcept {
        state_ = state::finished;
        auto finish = std::move(finish_);
        try {
            finish(crash);
        } catch (...) {
            std::fprintf(stderr,
                         "trellis: a guest run's done callback threw (%s); done callbacks must not throw: "
                         "catch inside the callback (outcome::unwrap rethrows the run's error). Terminating.\n",
                         describe_current_exception().c_str());
            std::terminate();
        }
    }

    guest_host host_;
    std::function<void(std::exception_ptr)> finish_;
    std::thread::id host_thread_;
    std::unique_ptr<runner> runner_;
    // Host thread only, like everything below.
    // Invariant: in_flight_ is set exactly while a worker waits for this
    // run (between hand_wait_to_worker and the step message, or teardown),
    // and then the runner's wait-in-flight flag is set too.
    std::shared_ptr<io_wait> in_flight_;
    // The events for the next runner step.
    std::vector<epoll_event> events_;
    // A buffer to lend the next wait, so waits do not allocate.
    std::vector<epoll_event> spare_events_;
    // Host-native mode (run_options::guest_io). Host thread only.
    const bool native_;
    // Invariant: waiter_ is set exactly while a host-native run lives
    // (from start to teardown), and so is self_.
    std::unique_ptr<native_waiter> waiter_;
    std::shared_ptr<guest_driver> self_;
    // Invariant: native_armed_ is true exactly while the waiter is armed
    // (between arm_native_wait and native_ready or a disarm), and then the
    // runner's wait-in-flight flag is set too. Never true with in_flight_.
    bool native_armed_ = false;
    duration native_timeout_{};
    state state_ = state::running;
};

guest_run start_guest(const run_options& options, guest_host host, std::function<task<>()> main,
                      std::function<void(std::exception_ptr)> finish) {
    if (!host.run_sync_soon_threadsafe)
        throw run_error("trellis::start_guest_run: the host must provide run_sync_soon_threadsafe");
    if (options.guest_io == guest_io_mode::host_native && !host.make_native_waiter)
        throw run_error(
            "trellis::start_guest_run: run_options::guest_io is guest_io_mode::host_native, but this host "
            "provides no guest_host::make_native_waiter; use guest_io_mode::worker_thread (the default) on "
            "this host, or a host adapter with native waiting (trellis::qt, trellis::glib, trellis::libevent)");
    auto driver = std::make_shared<guest_driver>(options, std::move(host), std::move(finish));
    driver->start(std::move(main));
    return guest_run(driver);
}

}  // namespace trellis::detail

namespace trellis {

bool guest_run::finished() const noexcept { return !driver_ || driver_->finished(); }

void guest_run::host_gone() noexcept {
    if (driver_) driver_->abandon();
}

}  // namespace trellis

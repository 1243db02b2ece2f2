// The guest driver: runs the runner's steps as callbacks on a host loop and
// hands the blocking I/O wait to one worker thread.
//
// The chain of control. At any moment exactly one of these holds the run's
// next step: a step callback posted to the host, or the worker's in-flight
// wait, which ends by posting a step callback. So steps never overlap, and
// a wait never overlaps a step (the thread rule of DESIGN §3).
//
//   step (host thread) --nothing runnable, nothing ready--> worker waits
//        ^    |                                                 |
//        |    +--runnable or ready: post locally---+            |
//        +-------------------------------------------<---------+ posts back
//
// Before handing the wait to the worker, the step polls epoll without
// blocking on the host thread; a busy run never involves the thread. A busy
// run also keeps stepping within one host callback for up to a slice of
// time (busy_slice), then posts its next step and lets the host run.
//
// Host code that changes the scheduler's plans while the worker waits (an
// event set from a Qt slot, a deadline moved) calls
// runner::note_outside_change, which writes the entry queue's eventfd; the
// worker's epoll_wait returns and the next step sees the change.
//
// Abandonment. Every posted step callback carries a ticket. A ticket that
// dies without having run means the host destroyed our callback: the host
// loop is gone. The adapter reports the same through guest_run::host_gone()
// when the worker holds the chain. Either way the run is torn down on the
// host thread: the worker is stopped, every task frame destroyed unresumed,
// and the done callback is not called.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "runner.hpp"
#include "trellis/guest.hpp"

namespace trellis::detail {

namespace {
std::function<void(bool, bool)> post_observer;
}

class guest_driver : public std::enable_shared_from_this<guest_driver> {
public:
    guest_driver(const run_options& options, guest_host host, std::function<void(std::exception_ptr)> finish)
        : host_(std::move(host)),
          finish_(std::move(finish)),
          host_thread_(std::this_thread::get_id()),
          runner_(std::make_unique<runner>(options)) {
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
        stop_worker();
    }

    void start(std::function<task<>()> main) {
        runner_->start(std::move(main));
        worker_ = std::thread([this] { worker_loop(); });
        post_step_locally();
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
        stop_worker();
        runner_.reset();  // destroys every task frame, closes the token, unbinds the thread
    }

    // A posted step callback was destroyed without running.
    void callback_dropped() noexcept {
        if (std::this_thread::get_id() == host_thread_) {
            abandon();
        } else {
            // The worker's post found the host gone. Tearing down must
            // happen on the host thread (task frames and the thread's run
            // binding live there); the adapter's host_gone() does it.
            dropped_off_thread_ = true;
        }
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

    std::function<void()> make_step_callback() {
        auto t = std::make_shared<ticket>();
        t->driver = shared_from_this();
        return [t] {
            t->ran = true;
            t->driver->step();
        };
    }

    void post_step_locally() {
        if (post_observer) post_observer(false, std::this_thread::get_id() == host_thread_);
        host_.run_sync_soon_not_threadsafe(make_step_callback());
    }

    void step() {
        if (state_ != state::running) return;
        if (wait_in_flight_) {
            wait_in_flight_ = false;
            runner_->set_wait_in_flight(false);
            runner_->after_io_wait(wait_timeout_);
            if (worker_error_) {
                crash_from_driver(std::exchange(worker_error_, nullptr));
                return;
            }
        }
        // While the run stays busy, keep stepping inside this one host
        // callback: a trip through the host loop per step would cost many
        // times the step itself (a checkpoint is tens of ns, a host loop
        // iteration a microsecond or more). The host gets its thread back
        // at least every busy_slice, so its own events wait no longer.
        const auto slice_start = std::chrono::steady_clock::now();
        unsigned next_look = 1;  // at which step to read the clock next
        for (unsigned steps = 1;; ++steps) {
            duration timeout;
            try {
                timeout = runner_->step(events_);
                events_.clear();
                if (runner_->done()) return complete();
                // Poll without blocking, here on the host thread: I/O must be
                // seen between busy batches too, and if something is ready the
                // worker thread need not be involved at all.
                if (runner_->io_poll_useful()) runner_->io().wait(duration::zero(), events_);
            } catch (...) {
                crash_from_driver(std::current_exception());
                return;
            }
            if (timeout != duration::zero() && events_.empty()) return hand_wait_to_worker(timeout);
            // Reading the clock can cost more than a short step: look again
            // about halfway through what is left of the slice at the pace
            // so far, and at least every max_look_stride steps.
            if (steps == next_look) {
                const auto elapsed = std::chrono::steady_clock::now() - slice_start;
                if (elapsed >= busy_slice) break;
                const auto left_at_pace = (busy_slice - elapsed) * steps / std::max(elapsed, decltype(elapsed)(1));
                next_look = steps + static_cast<unsigned>(std::clamp<long long>(left_at_pace / 2, 1, max_look_stride));
            }
        }
        post_step_locally();
    }

    // How long a busy run may keep the host thread per host callback.
    static constexpr std::chrono::microseconds busy_slice{1000};
    static constexpr long long max_look_stride = 64;

    void hand_wait_to_worker(duration timeout) {
        runner_->before_io_wait(timeout);
        wait_timeout_ = timeout;
        wait_in_flight_ = true;
        runner_->set_wait_in_flight(true);
        {
            std::lock_guard lock(mutex_);
            job_pending_ = true;
            job_timeout_ = timeout;
            // While the worker holds the chain no step callback exists, and
            // the application need not keep the guest_run handle: the wait
            // itself keeps the driver alive until it has posted the next step.
            self_while_waiting_ = shared_from_this();
        }
        cv_.notify_one();
    }

    void worker_loop() {
        for (;;) {
            duration timeout;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return job_pending_ || stopping_; });
                if (stopping_) return;
                job_pending_ = false;
                timeout = job_timeout_;
            }
            try {
                runner_io_->wait(timeout, events_);
            } catch (...) {
                worker_error_ = std::current_exception();
            }
            std::shared_ptr<guest_driver> keep;
            {
                std::lock_guard lock(mutex_);
                // When stopping, whoever stops us holds a reference and joins
                // this thread, so `keep` is not the last one.
                keep = std::move(self_while_waiting_);
                if (stopping_) return;
            }
            // The events buffer and worker_error_ are handed to the host
            // thread by this post (the host queue orders the accesses).
            if (post_observer) post_observer(true, std::this_thread::get_id() == host_thread_);
            host_.run_sync_soon_threadsafe(make_step_callback());
            // The step callback now owns the driver. If the host dropped it
            // and nobody else holds the driver, releasing `keep` destroys it
            // here (see the destructor), and this thread must not touch it
            // again. (If the host thread drops the last reference instead,
            // its destructor joins this thread, so `this` stays valid.)
            std::weak_ptr<guest_driver> alive = keep;
            keep.reset();
            if (alive.expired()) return;
        }
    }

    void stop_worker() noexcept {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_one();
        if (runner_) runner_->entries()->wake();  // ends an epoll_wait in progress
        if (worker_.joinable()) {
            if (std::this_thread::get_id() == worker_.get_id())
                worker_.detach();
            else
                worker_.join();
        }
        // A wait handed over but never taken up. Our caller holds another
        // reference to the driver, so this is not the last one.
        std::shared_ptr<guest_driver> unused;
        {
            std::lock_guard lock(mutex_);
            unused = std::move(self_while_waiting_);
        }
    }

    void complete() {
        runner_->finish();
        std::exception_ptr crash = runner_->crash_error();
        stop_worker();
        runner_.reset();
        state_ = state::finished;
        finish_(crash);
    }

    // An internal failure (epoll itself failing): tear down like an
    // abandonment, but report the error through the done callback.
    void crash_from_driver(std::exception_ptr error) {
        state_ = state::finished;
        stop_worker();
        runner_.reset();
        finish_(error);
    }

    guest_host host_;
    std::function<void(std::exception_ptr)> finish_;
    std::thread::id host_thread_;
    std::unique_ptr<runner> runner_;
    // What the worker may touch: the epoll instance (through this pointer,
    // set before the worker starts), events_ while a wait is in flight, and
    // the job fields under mutex_.
    io_manager* runner_io_ = &runner_->io();
    std::vector<epoll_event> events_;
    std::exception_ptr worker_error_;
    std::thread worker_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool job_pending_ = false;      // guarded by mutex_
    bool stopping_ = false;         // guarded by mutex_
    std::shared_ptr<guest_driver> self_while_waiting_;  // guarded by mutex_
    duration job_timeout_{};        // guarded by mutex_
    duration wait_timeout_{};       // host thread
    bool wait_in_flight_ = false;   // host thread
    std::atomic<bool> dropped_off_thread_{false};
    state state_ = state::running;  // host thread
};

guest_run start_guest(const run_options& options, guest_host host, std::function<task<>()> main,
                      std::function<void(std::exception_ptr)> finish) {
    if (!host.run_sync_soon_threadsafe)
        throw run_error("trellis::start_guest_run: the host must provide run_sync_soon_threadsafe");
    auto driver = std::make_shared<guest_driver>(options, std::move(host), std::move(finish));
    driver->start(std::move(main));
    return guest_run(driver);
}

}  // namespace trellis::detail

namespace trellis {

void testing::set_guest_post_observer(std::function<void(bool, bool)> observer) {
    detail::post_observer = std::move(observer);
}

bool guest_run::finished() const noexcept { return !driver_ || driver_->finished(); }

void guest_run::host_gone() noexcept {
    if (driver_) driver_->abandon();
}

}  // namespace trellis

// The libevent host of a guest run: a queue of posted callbacks drained by
// the callback of a user event on the base (see the notes at the top of
// trellis/libevent.hpp).
//
// Lifetime. The channel owns two events: `wake_`, added with a zero timeout
// whenever the queue becomes non-empty, and `keepalive_`, a long persistent
// timer that keeps event_base_dispatch() from returning while the run lives.
// Both are freed when the run ends (detach) or when the application
// releases the base (release_base); from then on, posts are dropped. The
// guest run's host functions own the channel; a registry of weak
// references lets release_base find the channels of a base.
//
// Host-native runs (run_options::guest_io) also get a native_watch: two
// more events on the base, owned by the run and freed at its teardown,
// which release_base brings forward (it abandons the run).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "trellis/libevent.hpp"

namespace trellis::libevent::detail {

namespace {

using event_callback = void (*)(evutil_socket_t, short, void*);

// The callback libevent gives the internal event that lets other threads
// wake a base: a base made after evthread_use_pthreads() has one, a base
// made before does not. Learnt once from a fresh base; null while threading
// is off (it cannot be turned off once on).
event_callback wakeup_callback() {
    static std::atomic<event_callback> learnt{nullptr};
    if (event_callback cb = learnt.load()) return cb;
    event_base* probe = event_base_new();
    if (!probe) return nullptr;
    event_callback cb = nullptr;
    event_base_foreach_event(
        probe,
        [](const event_base* base, const event* ev, void* out) -> int {
            if (event_get_callback_arg(ev) != base || event_get_fd(ev) < 0) return 0;
            *static_cast<event_callback*>(out) = event_get_callback(ev);
            return 1;
        },
        &cb);
    event_base_free(probe);
    learnt = cb;
    return cb;
}

// True if other threads may add events to `base` and wake it.
bool is_threadsafe(event_base* base) {
    struct search {
        event_callback wanted;
        bool found = false;
    } s{wakeup_callback()};
    if (!s.wanted) return false;
    event_base_foreach_event(
        base,
        [](const event_base* b, const event* ev, void* arg) -> int {
            auto* s = static_cast<search*>(arg);
            s->found = event_get_callback(ev) == s->wanted && event_get_callback_arg(ev) == b;
            return s->found ? 1 : 0;
        },
        &s);
    return s.found;
}

}  // namespace

// Host-native waiting (run_options::guest_io = host_native): the base
// watches the run's epoll fd with a persistent read event, added once, and
// the deadline with a timer event added on each arm(). The read event stays
// added between waits (adding and deleting it per wait would cost two
// epoll_ctl calls a cycle); while disarmed its callback does nothing. It
// can only fire spuriously while the run is busy, and then the run's next
// step (already posted) consumes what made the fd readable.
class native_watch final : public trellis::native_waiter {
public:
    native_watch(event_base* base, int fd, std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {
        readable_ = event_new(base, fd, EV_READ | EV_PERSIST, &native_watch::on_event, this);
        timer_ = evtimer_new(base, &native_watch::on_event, this);
        if (!readable_ || !timer_ || event_add(readable_, nullptr) != 0) {
            free_events();
            throw run_error("trellis::libevent::start_guest_run: could not create the run's I/O events on the base");
        }
    }
    ~native_watch() override { free_events(); }

    void arm(duration timeout) override {
        armed_ = true;
        if (timeout == duration::max()) return;
        // Rounded up to libevent's microseconds: the timer must not end the
        // wait before the run's deadline.
        const auto us = std::chrono::ceil<std::chrono::microseconds>(timeout).count();
        const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        if (evtimer_add(timer_, &tv) != 0) throw run_error("trellis::libevent: could not add the run's timer event");
    }

    void disarm() noexcept override {
        armed_ = false;
        evtimer_del(timer_);
    }

private:
    static void on_event(evutil_socket_t, short, void* arg) noexcept {
        auto* self = static_cast<native_watch*>(arg);
        if (!self->armed_) return;
        self->disarm();
        self->on_ready_();  // may destroy *self
    }
    void free_events() noexcept {
        // Freeing an event from inside its own callback is allowed: libevent
        // does not touch it after the callback returns.
        if (readable_) event_free(std::exchange(readable_, nullptr));
        if (timer_) event_free(std::exchange(timer_, nullptr));
    }

    std::function<void()> on_ready_;
    event* readable_ = nullptr;
    event* timer_ = nullptr;
    bool armed_ = false;
};

class channel : public std::enable_shared_from_this<channel> {
public:
    explicit channel(event_base* base) : base_(base) {}
    ~channel() { free_events(); }

    void open();
    guest_host host();
    void bind(const guest_run& run) { run_.emplace(run); }
    event_base* base() const noexcept { return base_; }
    // Host thread. The run ended (abandon false) or the base is going away.
    void close(bool abandon) noexcept;

private:
    void post(std::function<void()> fn);
    void drain();
    void free_events() noexcept;
    static void on_wake(evutil_socket_t, short, void* self) noexcept;

    event_base* const base_;
    std::mutex mutex_;
    // Invariant: wake_ is non-null exactly while the run may post; a poster
    // holding the mutex may add it (close() takes the mutex before freeing).
    event* wake_ = nullptr;                      // guarded by mutex_
    event* keepalive_ = nullptr;                 // host thread
    bool armed_ = false;                         // guarded: wake_ is pending
    std::vector<std::function<void()>> queue_;   // guarded by mutex_
    std::vector<std::function<void()>> batch_;   // host thread: what drain() runs
    std::optional<guest_run> run_;               // host thread
};

namespace {
std::mutex registry_mutex;
std::vector<std::weak_ptr<channel>> registry;  // guarded by registry_mutex

void forget(const channel* link) {
    std::lock_guard lock(registry_mutex);
    std::erase_if(registry, [link](const std::weak_ptr<channel>& w) {
        auto c = w.lock();
        return !c || c.get() == link;
    });
}
}  // namespace

void channel::open() {
    wake_ = event_new(base_, -1, 0, &channel::on_wake, this);
    keepalive_ = event_new(base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    const timeval an_hour{3600, 0};
    if (!wake_ || !keepalive_ || event_add(keepalive_, &an_hour) != 0) {
        free_events();
        throw run_error("trellis::libevent::start_guest_run: could not create events on the base");
    }
    std::lock_guard lock(registry_mutex);
    registry.push_back(weak_from_this());
}

guest_host channel::host() {
    auto self = shared_from_this();
    auto post = [self](std::function<void()> fn) { self->post(std::move(fn)); };
    guest_host host{post, post, nullptr};
    // The waiter lives on this base; release_base abandons the run (which
    // destroys the waiter) before the application frees the base.
    host.make_native_waiter = [base = base_](int fd, std::function<void()> on_ready) {
        return std::unique_ptr<trellis::native_waiter>(std::make_unique<native_watch>(base, fd, std::move(on_ready)));
    };
    return host;
}

void channel::post(std::function<void()> fn) {
    std::unique_lock lock(mutex_);
    if (!wake_) {
        lock.unlock();
        fn = nullptr;  // the base is gone: dropped unrun (outside the lock: may abandon the run)
        return;
    }
    queue_.push_back(std::move(fn));
    if (!armed_) {
        armed_ = true;
        // Thread-safe on a threaded base; wakes the loop from another thread.
        const timeval now{0, 0};
        event_add(wake_, &now);
    }
}

void channel::drain() {
    {
        std::lock_guard lock(mutex_);
        batch_.swap(queue_);
        armed_ = false;  // wake_ has fired and is no longer pending
    }
    for (auto& fn : batch_) fn();
    batch_.clear();
}

void channel::on_wake(evutil_socket_t, short, void* self) noexcept {
    std::shared_ptr<channel> keep = static_cast<channel*>(self)->shared_from_this();
    keep->drain();
}

void channel::free_events() noexcept {
    event* wake;
    {
        std::lock_guard lock(mutex_);
        wake = std::exchange(wake_, nullptr);
    }
    if (wake) event_free(wake);
    if (keepalive_) event_free(std::exchange(keepalive_, nullptr));
}

void channel::close(bool abandon) noexcept {
    std::vector<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(queue_);
    }
    free_events();
    forget(this);
    // Step callbacks dropped unrun abandon a live run (the driver's ticket
    // rule); if the worker held the run's next step, host_gone() does it.
    dropped.clear();
    auto run = std::exchange(run_, std::nullopt);
    if (abandon && run) run->host_gone();
}

trellis::detail::attached_host<channel> attach(event_base* base) {
    if (!base) throw run_error("trellis::libevent::start_guest_run: the event_base is null");
    if (!is_threadsafe(base))
        throw run_error(
            "trellis::libevent::start_guest_run: this event_base was created without threading; call "
            "evthread_use_pthreads() before event_base_new() (and do not pass EVENT_BASE_FLAG_NOLOCK)");
    auto link = std::make_shared<channel>(base);
    link->open();
    return {link->host(), link};
}

void bind(channel& link, const guest_run& run) { link.bind(run); }

void detach(channel& link) noexcept { link.close(false); }

void loop_until(event_base* base, const bool& finished) {
    while (!finished) {
        if (event_base_loop(base, EVLOOP_ONCE) < 0) {
            release_base(base);
            throw run_error("trellis::libevent::run: event_base_loop failed");
        }
    }
}

}  // namespace trellis::libevent::detail

namespace trellis::libevent {

void release_base(event_base* base) noexcept {
    std::vector<std::shared_ptr<detail::channel>> on_base;
    {
        std::lock_guard lock(detail::registry_mutex);
        for (auto& w : detail::registry)
            if (auto c = w.lock(); c && c->base() == base) on_base.push_back(std::move(c));
    }
    for (auto& c : on_base) c->close(true);
}

}  // namespace trellis::libevent

// The GLib host of a guest run: a GSource of our own whose dispatch drains
// a queue of posted callbacks (see the notes at the top of trellis/glib.hpp).
//
// Lifetime. The context owns the sources (we drop our references once they
// are attached). Each source owns a reference to the channel, released in
// its finalize; the guest run's host functions own another. The channel
// refers to the sources only while they live: sources_ turn null, under the
// mutex, when the run ends (detach) or when the context destroys them
// (finalize), and every later post is dropped.
//
// Host-native runs (run_options::guest_io) also get a native_watch: one
// more source, owned by the run, that polls the run's epoll fd and carries
// its deadline (see the note above the class).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <vector>

#include "trellis/glib.hpp"

namespace trellis::glib::detail {

// Host-native waiting (run_options::guest_io = host_native): one GSource
// of our own polls the run's epoll fd and carries the deadline. It is a
// custom source rather than g_source_add_unix_fd + g_source_set_ready_time
// because both of those wake the context (a write to its wakeup fd) on
// every call, even from the owner thread, which would cost a syscall and
// an extra loop iteration per wait. (For the same reason the source may
// recurse: see the constructor.) Here arm() and disarm() only change
// fields that prepare/check read in the context's next iteration: the
// events of our own GPollFD (g_source_add_poll) and the deadline.
//
// Lifetime. The waiter holds a reference to the source and destroys it in
// its destructor. If the context goes first, it destroys the source (and
// the channel's sources, whose finalize abandons the run, which destroys
// the waiter; g_source_destroy on a source the context has already
// destroyed does nothing). The source refers to the waiter only through
// `owner`, cleared by the waiter's destructor.
class native_watch final : public trellis::native_waiter {
public:
    native_watch(GMainContext* context, int fd, std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {
        source_ = reinterpret_cast<source_type*>(g_source_new(&funcs, sizeof(source_type)));
        source_->owner = this;
        source_->deadline = -1;
        source_->poll = GPollFD{fd, 0, 0};
        g_source_add_poll(&source_->base, &source_->poll);
        g_source_set_priority(&source_->base, G_PRIORITY_DEFAULT);
        g_source_set_name(&source_->base, "trellis guest run (I/O)");
        // GLib blocks a source that cannot recurse while it dispatches, by
        // taking its fds out of the context and putting them back, and each
        // of those wakes the context: two eventfd writes and a wasted loop
        // iteration per wait. Recursion is harmless here: dispatch disarms
        // before calling into the run, so a nested iteration (a task
        // running a nested main loop) finds the source not ready.
        g_source_set_can_recurse(&source_->base, TRUE);
        GMainContext* target = context ? context : g_main_context_get_thread_default();
        g_source_attach(&source_->base, target);  // we keep our reference
    }
    ~native_watch() override {
        source_->owner = nullptr;
        g_source_destroy(&source_->base);
        g_source_unref(&source_->base);
    }

    void arm(duration timeout) override {
        source_->poll.events = G_IO_IN;
        if (timeout == duration::max()) {
            source_->deadline = -1;
        } else {
            // In the context's own monotonic microseconds, rounded up: the
            // wait must not end before the run's deadline.
            const auto us = std::chrono::ceil<std::chrono::microseconds>(timeout).count();
            source_->deadline = g_get_monotonic_time() + us;
        }
    }

    void disarm() noexcept override {
        source_->poll.events = 0;
        source_->deadline = -1;
    }

private:
    struct source_type {
        GSource base;
        native_watch* owner;
        GPollFD poll;
        gint64 deadline;  // g_get_monotonic_time() units; -1: none
    };
    static bool armed(const source_type* s) noexcept { return s->owner && s->poll.events != 0; }
    static bool due(source_type* s) noexcept {
        return s->deadline >= 0 && g_source_get_time(&s->base) >= s->deadline;
    }

    static gboolean prepare(GSource* base, gint* timeout) noexcept {
        auto* s = reinterpret_cast<source_type*>(base);
        *timeout = -1;
        if (!armed(s) || s->deadline < 0) return FALSE;
        const gint64 left = s->deadline - g_source_get_time(base);
        if (left <= 0) return TRUE;
        // poll() takes milliseconds: round up.
        *timeout = static_cast<gint>(std::min<gint64>((left + 999) / 1000, G_MAXINT));
        return FALSE;
    }
    static gboolean check(GSource* base) noexcept {
        auto* s = reinterpret_cast<source_type*>(base);
        return armed(s) && ((s->poll.revents & G_IO_IN) != 0 || due(s));
    }
    static gboolean dispatch(GSource* base, GSourceFunc, gpointer) noexcept {
        auto* s = reinterpret_cast<source_type*>(base);
        if (!armed(s)) return G_SOURCE_CONTINUE;
        native_watch* self = s->owner;
        self->disarm();
        self->on_ready_();  // may destroy *self; the context holds the source through dispatch
        return G_SOURCE_CONTINUE;
    }
    static GSourceFuncs funcs;

    std::function<void()> on_ready_;
    source_type* source_;
};

GSourceFuncs native_watch::funcs = {&native_watch::prepare, &native_watch::check, &native_watch::dispatch,
                                    nullptr, nullptr, nullptr};

class channel : public std::enable_shared_from_this<channel> {
public:
    void open(GMainContext* context);
    guest_host host();
    void bind(const guest_run& run) { run_.emplace(run); }
    void close() noexcept;

private:
    // Two sources share one queue. The worker's posts (I/O results, wake-ups
    // from host code) arm the `prompt` source, at G_PRIORITY_DEFAULT like
    // GIO's async results. The host thread's posts (a run that stays busy)
    // arm the `busy` source, at G_PRIORITY_DEFAULT_IDLE, so a busy run never
    // starves redraws, input or other idle work. Either source drains
    // everything queued.
    enum lane : int { prompt = 0, busy = 1 };
    struct source_type {
        GSource base;
        std::shared_ptr<channel>* owner;
        lane which;
    };

    void post(std::function<void()> fn, lane which);
    void drain(lane which);
    void source_finalized() noexcept;
    static gboolean dispatch(GSource* source, GSourceFunc, gpointer) noexcept;
    static void finalize(GSource* source) noexcept;
    static GSourceFuncs funcs;

    std::mutex mutex_;
    // Invariant: both non-null exactly while the sources are attached and
    // the run needs them; a poster holding the mutex may use them (they
    // cannot be finalized meanwhile: finalize takes the mutex first).
    GSource* sources_[2] = {nullptr, nullptr};     // guarded by mutex_
    bool armed_[2] = {false, false};               // guarded: ready time set to "now"
    std::vector<std::function<void()>> queue_;     // guarded by mutex_
    std::vector<std::function<void()>> batch_;     // host thread: what drain() runs
    std::optional<guest_run> run_;                 // host thread
    GMainContext* context_ = nullptr;              // where the sources are (not owned)
};

GSourceFuncs channel::funcs = {nullptr, nullptr, &channel::dispatch, &channel::finalize, nullptr, nullptr};

void channel::open(GMainContext* context) {
    GMainContext* target = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    context_ = target;
    for (lane which : {prompt, busy}) {
        GSource* source = g_source_new(&funcs, sizeof(source_type));
        auto* typed = reinterpret_cast<source_type*>(source);
        typed->owner = new std::shared_ptr<channel>(shared_from_this());
        typed->which = which;
        g_source_set_priority(source, which == prompt ? G_PRIORITY_DEFAULT : G_PRIORITY_DEFAULT_IDLE);
        g_source_set_name(source, which == prompt ? "trellis guest run" : "trellis guest run (busy)");
        sources_[which] = source;
        g_source_attach(source, target);
        g_source_unref(source);  // the context holds it now
    }
    g_main_context_unref(target);
}

guest_host channel::host() {
    auto self = shared_from_this();
    guest_host host{[self](std::function<void()> fn) { self->post(std::move(fn), prompt); },
                    [self](std::function<void()> fn) { self->post(std::move(fn), busy); }, nullptr};
    host.make_native_waiter = [self](int fd, std::function<void()> on_ready) {
        return std::unique_ptr<trellis::native_waiter>(
            std::make_unique<native_watch>(self->context_, fd, std::move(on_ready)));
    };
    return host;
}

void channel::post(std::function<void()> fn, lane which) {
    std::unique_lock lock(mutex_);
    if (!sources_[which]) {
        lock.unlock();
        fn = nullptr;  // the loop is gone: dropped unrun (outside the lock: may abandon the run)
        return;
    }
    queue_.push_back(std::move(fn));
    if (!armed_[which]) {
        armed_[which] = true;
        // Thread-safe, and wakes the context if it is blocked in poll().
        g_source_set_ready_time(sources_[which], 0);
    }
}

void channel::drain(lane which) {
    {
        std::lock_guard lock(mutex_);
        batch_.swap(queue_);
        armed_[which] = false;
        if (sources_[which]) g_source_set_ready_time(sources_[which], -1);
    }
    // What these callbacks post lands in queue_ and runs in a later
    // dispatch, after the context has polled its other sources.
    for (auto& fn : batch_) fn();
    batch_.clear();
}

void channel::close() noexcept {
    std::vector<std::function<void()>> dropped;
    GSource* sources[2];
    {
        std::lock_guard lock(mutex_);
        for (lane which : {prompt, busy}) sources[which] = std::exchange(sources_[which], nullptr);
        dropped.swap(queue_);
    }
    for (GSource* source : sources)
        if (source) g_source_destroy(source);
    dropped.clear();
    run_.reset();
}

void channel::source_finalized() noexcept {
    std::vector<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        if (!sources_[prompt]) return;  // closed before (normally, or by the other source's finalize)
        sources_[prompt] = sources_[busy] = nullptr;
        dropped.swap(queue_);
    }
    // The context was destroyed under a live run: our step callbacks die
    // unrun (the driver sees that as abandonment), and if the worker held
    // the run's next step, host_gone() abandons it.
    dropped.clear();
    if (run_) std::exchange(run_, std::nullopt)->host_gone();
}

gboolean channel::dispatch(GSource* source, GSourceFunc, gpointer) noexcept {
    auto* typed = reinterpret_cast<source_type*>(source);
    std::shared_ptr<channel> self = *typed->owner;
    self->drain(typed->which);
    return G_SOURCE_CONTINUE;
}

void channel::finalize(GSource* source) noexcept {
    auto* owner = reinterpret_cast<source_type*>(source)->owner;
    (*owner)->source_finalized();
    delete owner;
}

trellis::detail::attached_host<channel> attach(GMainContext* context) {
    auto link = std::make_shared<channel>();
    link->open(context);
    return {link->host(), link};
}

void bind(channel& link, const guest_run& run) { link.bind(run); }

void detach(channel& link) noexcept { link.close(); }

// ---- loop ----

loop::loop() : context_(g_main_context_ref_thread_default()), loop_(g_main_loop_new(context_, FALSE)) {}

loop::~loop() {
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
}

void loop::run() {
    while (!finished_) g_main_loop_run(loop_);
}

void loop::quit() noexcept {
    finished_ = true;
    g_main_loop_quit(loop_);
}

}  // namespace trellis::glib::detail

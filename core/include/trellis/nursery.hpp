// trellis::nursery: where tasks run, and the guarantee that none outlives it.
//
//   co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
//       n.start_soon(worker, 1);
//       int port = co_await n.start(server);
//   });
//
// open_nursery runs the body, then waits until every child has finished.
// If the body or any child raises, the nursery's cancel scope is cancelled
// (so the others stop at their next checkpoint), and once everything has
// finished the error comes out of open_nursery: a single error as itself,
// two or more as trellis::exception_group. A cancelled that only this
// nursery's own cancellation caused is caught at its edge.
//
// Ownership and lifetime: the nursery object lives in open_nursery's frame
// and is valid from the body's start until open_nursery returns; children
// may keep a reference to it and spawn siblings while it is open. It
// "closes" once the body has returned and every child has finished; after
// that spawning into it raises run_error.
// Threads: use it only on the run's thread.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

#include "trellis/cancel_scope.hpp"
#include "trellis/detail/task_state.hpp"
#include "trellis/task_handle.hpp"
#include "trellis/task_status.hpp"

namespace trellis {

namespace detail {
struct nursery_access;
struct in_nursery_tag;
struct nursery_key {
    explicit nursery_key() = default;
};
}  // namespace detail

class nursery {
public:
    nursery(const nursery&) = delete;
    nursery& operator=(const nursery&) = delete;
    ~nursery();

    // Starts fn(args...) as a new child task; it first runs at the next
    // scheduling step. The callable and arguments are moved into the task
    // and live until it finishes. fn must return trellis::task<T>; the value
    // is discarded. A startable fn (last parameter task_status<T>) gets an
    // ignored status. Not a checkpoint. Throws run_error if the nursery is
    // closed or this is not its run's thread.
    template <class F, class... A>
        requires(!std::is_same_v<std::decay_t<F>, named>)
    void start_soon(F&& fn, A&&... args) {
        spawn_soon(detail::spawn_name{nullptr, &typeid(std::decay_t<F>)}, std::forward<F>(fn),
                   std::forward<A>(args)...);
    }
    // The same, naming the task.
    template <class F, class... A>
    void start_soon(const named& name, F&& fn, A&&... args) {
        spawn_soon(detail::spawn_name{&name.name, &typeid(std::decay_t<F>)}, std::forward<F>(fn),
                   std::forward<A>(args)...);
    }

    // Trio's start handshake: runs fn(args..., task_status<T>) as a task
    // that belongs to the caller until it calls status.started(value); then
    // the task moves into this nursery and start returns the value. An error
    // (or cancellation) before started() comes out of start; fn returning
    // without calling started() raises run_error. T is deduced from fn's
    // last parameter; name it (start<int>(...)) for generic callables.
    // A checkpoint. Throws run_error if the nursery is closed.
    template <class T = detail::deduce_status, class F, class... A>
    auto start(F fn, A... args) -> task<detail::start_value_t<T, F>>;

    // The nursery's cancel scope: cancelling it cancels the body and every
    // child. Not a checkpoint.
    trellis::cancel_scope& cancel_scope() noexcept { return scope_; }

    // The task that opened the nursery.
    lowlevel::task_handle parent_task() const noexcept { return lowlevel::task_handle(parent_task_); }
    // The children still running, in spawn order.
    std::vector<lowlevel::task_handle> child_tasks() const;
    // True once the body has returned and every child has finished.
    bool closed() const noexcept { return closed_; }

    // Only open_nursery makes nurseries.
    explicit nursery(detail::nursery_key) noexcept {}

private:
    friend struct detail::nursery_access;

    template <class F, class... A>
    void spawn_soon(detail::spawn_name name, F&& fn, A&&... args) {
        static_assert(detail::check_async_callable<F, A...>());
        detail::spawn(*this, detail::make_task_root<std::decay_t<F>, std::decay_t<A>...>(
                                 std::forward<F>(fn), std::forward<A>(args)...),
                      name);
    }

    trellis::cancel_scope scope_;
    detail::task_state* parent_task_ = nullptr;
    // The next nursery out in the parent task (see task_state::innermost_nursery_).
    nursery* outer_ = nullptr;
    // Invariant: every child task's parent_nursery_ is this.
    detail::intrusive_list<detail::task_state, detail::in_nursery_tag> children_;
    // Errors of the body and the children, in the order they happened.
    std::vector<std::exception_ptr> errors_;
    // Set while the parent is blocked waiting for the children to finish.
    detail::task_state* waiting_parent_ = nullptr;
    // start() calls in progress keep the nursery open: their task has yet to
    // arrive.
    int pending_starts_ = 0;
    bool body_done_ = false;
    bool closed_ = false;
    // start()'s private nursery: its child's single error comes out of
    // start() as itself, even with strict exception groups (as in Trio).
    bool single_error_as_itself_ = false;
};

namespace detail {

struct nursery_access {
    // Opens `n` in the current task: enters its scope, links it to the task.
    static void open(nursery& n);

    // What join returns. An awaiter rather than a coroutine, because every
    // nursery is joined once and a coroutine would cost a frame allocation
    // each time (a measurable share of start_soon + join; see bench/).
    struct join_awaiter {
        void trellis_awaitable() const noexcept {}
        nursery& n;
        std::exception_ptr body_error;
        task_state* task = nullptr;
        // True when the children had all finished already and the join is
        // a plain checkpoint; false when it blocked until they finished.
        bool yielded = false;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> self);
        void await_resume();
    };
    // co_await join(n, body_error): waits for the children after the body
    // ended with `body_error`. A checkpoint even when there is nothing to
    // wait for. Never throws: a cancellation of the waiting parent is
    // recorded as an error of the nursery.
    static join_awaiter join(nursery& n, std::exception_ptr body_error) { return {n, std::move(body_error)}; }
    // Leaves the scope and returns the combined error to raise, if any.
    static std::exception_ptr close(nursery& n) noexcept;
    // Throws run_error (naming `caller`) unless tasks may be spawned into n
    // from this thread now.
    static void check_open(const nursery& n, const char* caller);
    // A new child: linked into the nursery and its cancel scope.
    static void add_child(nursery& n, task_state& child) noexcept;
    // A child exited: unlinks it, records its error, maybe closes n.
    static void remove_child(nursery& n, task_state& child);
    // Abandonment: unlinks without any bookkeeping.
    static void remove_child_silently(nursery& n, task_state& child) noexcept;
    static task_state* first_child(const nursery& n) noexcept { return n.children_.front(); }
    static nursery* outer(const nursery& n) noexcept { return n.outer_; }
    static task_state* parent_task(const nursery& n) noexcept { return n.parent_task_; }
    static int& pending_starts(nursery& n) noexcept { return n.pending_starts_; }
    static void mark_start_nursery(nursery& n) noexcept { n.single_error_as_itself_ = true; }
    // A start() into `n` is over: the nursery may close now.
    static void finish_start(nursery& n);
    // Records an error of the body or a child and cancels the nursery.
    static void add_error(nursery& n, std::exception_ptr error);
    // Moves the started task of `temporary` into `target` (task_status).
    static void adopt(nursery& temporary, nursery& target);
    // Closes n if nothing can arrive any more, waking a waiting parent.
    static void check_closed(nursery& n);
};

}  // namespace detail

// Opens a nursery, runs body(nursery&) in it, waits for every child, and
// raises the errors (see the top of this file). A checkpoint (the wait for
// children is one; it is also one when there are no children). If the
// calling task is cancelled while waiting, the children are cancelled too
// (they are inside the same scopes) and the wait goes on until they finish.
template <class F>
task<> open_nursery(F body) {
    static_assert(std::is_invocable_v<F&, nursery&>,
                  "trellis::open_nursery: the body must be callable as body(trellis::nursery&)");
    static_assert(std::is_same_v<std::invoke_result_t<F&, nursery&>, task<>>,
                  "trellis::open_nursery: the body must return trellis::task<void>");
    nursery n{detail::nursery_key{}};
    detail::nursery_access::open(n);
    auto result = co_await detail::capture_call(body, n);
    co_await detail::nursery_access::join(n, result.error());
    if (auto error = detail::nursery_access::close(n)) std::rethrow_exception(error);
}

template <class T, class F, class... A>
auto nursery::start(F fn, A... args) -> task<detail::start_value_t<T, F>> {
    using V = detail::start_value_t<T, F>;
    static_assert(detail::check_async_callable<F, A..., task_status<V>>());
    detail::nursery_access::check_open(*this, "nursery::start");
    detail::start_slot<V> slot;
    ++detail::nursery_access::pending_starts(*this);
    auto joined = co_await detail::capture(open_nursery([&](nursery& old) -> task<> {
        detail::nursery_access::mark_start_nursery(old);
        old.spawn_soon(detail::spawn_name{nullptr, &typeid(F)}, std::move(fn), std::move(args)...,
                       task_status<V>(&slot, &old, this));
        co_return;
    }));
    detail::nursery_access::finish_start(*this);
    joined.unwrap();
    if (!slot.started)
        throw run_error("nursery::start: the task returned without calling task_status.started()");
    if constexpr (!std::is_void_v<V>) co_return std::move(*slot.value);
}

}  // namespace trellis

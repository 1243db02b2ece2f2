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
// finished the errors come out of open_nursery: a single error as itself,
// two or more as trellis::exception_group (with strict exception groups,
// even one error comes out in a group; see nursery_options). A cancelled
// that only this nursery's own cancellation caused is caught at its edge.
//
// Cancellations and real errors together (Trio 0.22's MultiError rule):
// when the nursery ends with both, the group holds the real errors and one
// `cancelled`. The cancellation travels outward with them until it reaches
// the cancel scope it belongs to, which removes it (its cancelled_caught()
// becomes true) and lets only the real errors go on, a lone one as itself
// unless the group was strict. Code between the two sees the group; a catch
// for the real error's own type sees it only past that scope. Several
// cancellations count as one.
//
// Ownership and lifetime: the nursery object lives in open_nursery's frame
// and is valid from the body's start until open_nursery returns; children
// may keep a reference to it and spawn siblings while it is open. It
// "closes" once the body has returned and every child has finished; after
// that spawning into it raises run_error.
// Threads: use it only on the run's thread.
#pragma once

#include <exception>
#include <optional>
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

// Options for open_nursery(options, body).
struct nursery_options {
    // Wrap even a single error in an exception_group (true), raise it as
    // itself (false), or follow the run's run_options (unset).
    std::optional<bool> strict_exception_groups;
};

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
        spawn_soon(detail::name_of<std::decay_t<F>>(fn), std::forward<F>(fn), std::forward<A>(args)...);
    }
    // The same, naming the task.
    template <class F, class... A>
    void start_soon(const named& name, F&& fn, A&&... args) {
        spawn_soon(detail::name_of<std::decay_t<F>>(fn, &name.name), std::forward<F>(fn), std::forward<A>(args)...);
    }

    // Trio's start handshake: runs fn(args..., task_status<T>) as a task
    // that belongs to the caller until it calls status.started(value); then
    // the task moves into this nursery and start returns the value. An error
    // (or cancellation) before started() comes out of start (in a group if
    // the run uses strict exception groups, as in Trio 0.22); fn returning
    // without calling started() raises run_error. If the caller's scope is
    // cancelled by the time the task calls started(), the task does not
    // move: it stays under start(), is cancelled there, and start() raises
    // the cancellation (with the task's own error, if it then fails), so
    // nothing started by a cancelled start() outlives it. T is deduced from
    // fn's last parameter; name it (start<int>(...)) for generic callables.
    // A checkpoint. Throws run_error if the nursery is closed.
    // (The return types are deduced so that overload resolution never
    // computes start_value_t for a `named` first argument.)
    template <class T = detail::deduce_status, class F, class... A>
        requires(!std::is_same_v<std::decay_t<F>, named>)
    auto start(F fn, A... args) {
        return start_named<detail::start_value_t<T, F>>(detail::name_of<F>(fn), nullptr, std::move(fn),
                                                        std::move(args)...);
    }
    // The same, naming the task.
    template <class T = detail::deduce_status, class F, class... A>
    auto start(named name, F fn, A... args) {
        return start_named<detail::start_value_t<T, F>>(detail::name_of<F>(fn), std::make_unique<std::string>(std::move(name.name)),
                                                        std::move(fn), std::move(args)...);
    }

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
        if constexpr (detail::async_callable<F, A...>)
            detail::spawn(*this, detail::make_task_root<std::decay_t<F>, std::decay_t<A>...>(
                                     std::forward<F>(fn), std::forward<A>(args)...),
                          name, "nursery::start_soon");
    }
    template <class V, class F, class... A>
    task<V> start_named(detail::spawn_name name, std::unique_ptr<std::string> given_name, F fn, A... args);

    trellis::cancel_scope scope_;
    detail::task_state* parent_task_ = nullptr;
    // The next nursery out in the parent task (see task_state::innermost_nursery).
    nursery* outer_ = nullptr;
    // Invariant: every child task's parent_nursery is this.
    detail::intrusive_list<detail::task_state, detail::in_nursery_tag> children_;
    // Errors of the body and the children, in the order they happened.
    std::vector<std::exception_ptr> errors_;
    // Set while the parent is blocked waiting for the children to finish.
    detail::task_state* waiting_parent_ = nullptr;
    // start() calls in progress keep the nursery open: their task has yet to
    // arrive.
    int pending_starts_ = 0;
    // Set only on start()'s temporary nursery: where its task will move
    // when it calls started().
    nursery* start_target_ = nullptr;
    bool body_done_ = false;
    bool closed_ = false;
    bool strict_groups_ = false;
};

namespace detail {

struct nursery_access {
    // Opens `n` in the current task: enters its scope, links it to the task.
    static void open(nursery& n, const nursery_options& options);

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
    // A child exited: unlinks it, records its error, closes n if it was
    // the last thing n waited for.
    static void remove_child(nursery& n, task_state& child);
    // Abandonment: unlinks without any bookkeeping.
    static void remove_child_silently(nursery& n, task_state& child) noexcept;
    static task_state* first_child(const nursery& n) noexcept { return n.children_.front(); }
    static nursery* outer(const nursery& n) noexcept { return n.outer_; }
    static task_state* parent_task(const nursery& n) noexcept { return n.parent_task_; }
    static int& pending_starts(nursery& n) noexcept { return n.pending_starts_; }
    static nursery* start_target(const nursery& n) noexcept { return n.start_target_; }
    static void set_start_target(nursery& temporary, nursery* target) noexcept { temporary.start_target_ = target; }
    // A start() into `n` is over: the nursery may close now.
    static void finish_start(nursery& n);
    // Records an error of the body or a child and cancels the nursery.
    static void add_error(nursery& n, std::exception_ptr error);
    // task_status::started(): moves the started task of `temporary` into
    // `target`, unless `temporary` is cancelled by then (the task then stays
    // and is cancelled under start()).
    static void adopt(nursery& temporary, nursery& target);
    // Closes n if nothing can arrive any more (body returned, no children,
    // no start() pending), waking a waiting parent.
    static void close_if_done(nursery& n);
};

}  // namespace detail

// Opens a nursery, runs body(nursery&) in it, waits for every child, and
// raises the errors (see the top of this file). A checkpoint (the wait for
// children is one; it is also one when there are no children). If the
// calling task is cancelled while waiting, the children are cancelled too
// (they are inside the same scopes) and the wait goes on until they finish.
// Options first: open_nursery({.strict_exception_groups = true}, body).
template <class F>
task<> open_nursery(nursery_options options, F body) {
    static_assert(std::is_invocable_v<F&, nursery&>,
                  "trellis::open_nursery: the body must be callable as body(trellis::nursery&)");
    static_assert(std::is_same_v<std::invoke_result_t<F&, nursery&>, task<>>,
                  "trellis::open_nursery: the body must return trellis::task<void>");
    nursery n{detail::nursery_key{}};
    detail::nursery_access::open(n, options);
    auto result = co_await detail::capture_call(body, n);
    co_await detail::nursery_access::join(n, result.error());
    if (auto error = detail::nursery_access::close(n)) std::rethrow_exception(error);
}

template <class F>
task<> open_nursery(F body) {
    return open_nursery(nursery_options{}, std::move(body));
}

template <class V, class F, class... A>
task<V> nursery::start_named(detail::spawn_name name, std::unique_ptr<std::string> given_name, F fn, A... args) {
    static_assert(detail::check_async_callable<F, A..., task_status<V>>());
    if constexpr (detail::async_callable<F, A..., task_status<V>>) {
    detail::nursery_access::check_open(*this, "nursery::start");
    detail::start_slot<V> slot;
    ++detail::nursery_access::pending_starts(*this);
    name.explicit_name = given_name.get();
    auto body = [&](nursery& old) -> task<> {
        detail::nursery_access::set_start_target(old, this);
        detail::spawn(old,
                      detail::make_task_root<F, A..., task_status<V>>(std::move(fn), std::move(args)...,
                                                                      task_status<V>(&slot, &old, this)),
                      name, "nursery::start");
        co_return;
    };
    auto joined = co_await detail::capture(open_nursery(body));
    detail::nursery_access::finish_start(*this);
    joined.unwrap();
    if (!slot.started)
        throw run_error("nursery::start: the task returned without calling task_status.started()");
    if constexpr (!std::is_void_v<V>) co_return std::move(*slot.value);
    }
}

}  // namespace trellis

// trellis on Qt 6: guest runs on the QCoreApplication's event loop, awaiting
// Qt signals, and cancel scopes tied to a QObject's life.
//
//   int main(int argc, char** argv) {
//       QApplication app(argc, argv);
//       return trellis::qt::run(main_task);  // app.exec() until main_task is done
//   }
//
// Only QtCore is needed: QGuiApplication and QApplication are
// QCoreApplications, and no moc run is involved.
//
// More Qt helpers, each in its own header:
//  * trellis/qt/signal_channel.hpp: every emission of a signal in a channel
//    (for buttons: no click lost between awaits).
//  * trellis/qt/cancel_on_close.hpp: cancel a window's work when it is
//    closed, with the window kept alive until the work has cleaned up.
//  * trellis/qt/exec_dialog.hpp: await a QDialog opened with open()
//    (QtWidgets: dependency trellis-qt-widgets).
//  * trellis/qt/network_reply.hpp: await a QNetworkReply (QtNetwork:
//    dependency trellis-qt-network).
//  * trellis/qt/gtest.hpp: TRELLIS_QT_TEST, GoogleTest bodies on the Qt loop.
//
// Qt's quirks, as they matter here:
//  * Posted events. QCoreApplication::postEvent is thread-safe and takes
//    ownership of the event, which the receiver's thread delivers from its
//    event loop. Events posted while Qt delivers a batch of posted events
//    wait for the next loop iteration, so trellis's steps (one posted event
//    each) interleave with timers, sockets and input instead of starving
//    them.
//  * Thread affinity. A QObject belongs to the thread that created it. A
//    connection made with a context object calls the slot in the context's
//    thread, queued when the signal is emitted on another thread. Every
//    callback this adapter makes runs on the application's thread, which is
//    the run's thread.
//  * Destruction. Destroying a QObject deletes the events still posted to
//    it, unrun. Destroying the QCoreApplication deletes its children, then
//    every event still queued on its thread. The adapter's receiver is a
//    child of the application: when the application goes while a run is
//    live, the receiver abandons the run (guest_run::host_gone: task frames
//    destroyed unresumed, a warning on stderr, the done callback never
//    called), its pending steps die unrun, and the worker's later posts are
//    dropped (in host-native mode, run_options::guest_io, the run's socket
//    notifier, a child of the receiver, goes with it: there is no worker).
//  * Nested loops. QDialog::exec(), QEventLoop::exec() and processEvents()
//    deliver events from inside whatever called them. A trellis task that
//    runs one holds up the whole run until it returns, as any blocking call
//    inside a task does (only one step of a run is ever posted, so the
//    scheduler is not re-entered). From host code outside tasks, nested
//    loops are fine.
//  * One application at a time. A process has at most one QCoreApplication;
//    a run belongs to the one that existed when it started and must be
//    started on that application's thread (normally the main thread).
//  * Exceptions must not leave an event handler or a slot: Qt does not
//    unwind through its loop. Done callbacks must not throw.
#pragma once

#include <QMetaObject>
#include <QObject>

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/cancel_scope.hpp"
#include "trellis/clock.hpp"
#include "trellis/detail/host_adapter.hpp"
#include "trellis/errors.hpp"
#include "trellis/guest.hpp"
#include "trellis/outcome.hpp"
#include "trellis/run.hpp"
#include "trellis/task.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis::qt {

namespace detail {

class run_receiver;

// The application's side of one guest run: a receiver QObject, child of the
// application, to which the run's steps are posted. Construct on the
// application's thread; throws run_error (naming `caller`) when there is no
// QCoreApplication or this is another thread. Unless attach() is called, the
// destructor deletes the receiver again (the run failed to start).
class application_link {
public:
    explicit application_link(const char* caller);
    ~application_link();
    application_link(const application_link&) = delete;
    application_link& operator=(const application_link&) = delete;

    // How the guest driver posts to the receiver.
    guest_host host() const;
    // Hands the started run to the receiver, which abandons it if the
    // application goes first and deletes itself once the run is over.
    void attach(const guest_run& run);

private:
    run_receiver* receiver_;
    bool attached_ = false;
};

// True when the calling thread is already inside a Qt event loop.
bool in_event_loop() noexcept;
// Runs the application's loop, then (if the run is not done yet) a nested
// loop until `done` is true, after calling `cancel`. Returns the code the
// application's loop ended with (QCoreApplication::exit's argument).
int run_application_loop(const bool& done, const std::function<void()>& cancel);
// Stops whichever loop run_application_loop is in, once the events posted
// before this call have been delivered.
void quit_application_loop();

// Signals declared with a trailing QPrivateSignal argument may only be
// emitted by their class; the tag is not part of what a listener receives.
// The tag type is private to its class, but a template may still receive it
// deduced; it is recognised by its own (injected) name. The elaborated
// `struct T::QPrivateSignal` names that type: plain `T::QPrivateSignal`
// would name its constructor ([class.qual]/2), which clang rejects here.
template <class T, class = void>
inline constexpr bool is_private_signal_tag = false;
template <class T>
inline constexpr bool is_private_signal_tag<T, std::enable_if_t<std::is_class_v<struct T::QPrivateSignal>>> =
    std::is_same_v<T, struct T::QPrivateSignal>;

// The decayed argument types a listener of a signal with parameters A...
// receives, as a std::tuple.
template <class... A>
struct listener_args {
    using all = std::tuple<std::decay_t<A>...>;
    static constexpr std::size_t count = [] {
        if constexpr (sizeof...(A) == 0)
            return std::size_t{0};
        else
            return is_private_signal_tag<std::tuple_element_t<sizeof...(A) - 1, all>> ? sizeof...(A) - 1
                                                                                      : sizeof...(A);
    }();
    template <std::size_t... I>
    static auto pick(std::index_sequence<I...>) -> std::tuple<std::tuple_element_t<I, all>...>;
    using type = decltype(pick(std::make_index_sequence<count>()));
};

// One wait for a signal: a context object on the run's thread (so emissions
// from other threads arrive queued on it), the connections, and whether the
// wait is still open. Lives in the waiting task's frame.
class signal_wait {
public:
    signal_wait() = default;
    signal_wait(const signal_wait&) = delete;
    signal_wait& operator=(const signal_wait&) = delete;

    QObject* context() noexcept { return &context_; }
    void set_emitted(QMetaObject::Connection c) noexcept { emitted_ = std::move(c); }
    // Wakes `task` with closed_resource_error if `sender` is destroyed.
    void watch_destroyed(QObject* sender, lowlevel::task_handle task);
    // Closes the wait and disconnects; false if it was already closed.
    bool close() noexcept;

private:
    QObject context_;
    QMetaObject::Connection emitted_;
    QMetaObject::Connection destroyed_;
    bool open_ = true;
};

template <class Sender, class Signal, class... P>
auto wait_signal_as(std::tuple<P...>*, Sender* sender, Signal signal) -> task<trellis::detail::signal_value_t<P...>> {
    if (!sender) throw run_error("trellis::qt::wait_signal: the sender is null; pass the object that emits the signal");
    const lowlevel::task_handle self = lowlevel::current_task();
    std::optional<std::tuple<P...>> received;
    signal_wait wait;
    wait.set_emitted(QObject::connect(sender, signal, wait.context(), [&](const P&... args) {
        if (!wait.close()) return;
        received.emplace(args...);
        lowlevel::reschedule(self);
    }));
    wait.watch_destroyed(sender, self);
    co_await lowlevel::wait_task_rescheduled([&wait](const std::exception_ptr&) noexcept {
        wait.close();
        return lowlevel::abort_result::succeeded;
    });
    if constexpr (sizeof...(P) == 1)
        co_return std::get<0>(std::move(*received));
    else if constexpr (sizeof...(P) > 1)
        co_return std::move(*received);
}

}  // namespace detail

// Starts fn(args...) as the main task of a guest run on the Qt event loop.
// Call it on the QCoreApplication's thread (the loop need not be running
// yet: the run makes progress once it is). Returns once the run is
// initialised (see trellis::start_guest_run). `done(outcome<R>)` runs on the
// application's thread, from the event loop, when the run is over; it must
// be copyable and must not throw. If the application is destroyed first,
// the run is abandoned and `done` never runs. Not a checkpoint. Throws
// run_error when no QCoreApplication exists, when called from another
// thread, or when a run is already active on this thread.
template <class Done, class F, class... A>
    requires(!trellis::detail::is_run_options_v<Done>)
guest_run start_guest_run(const run_options& options, Done done, F fn, A... args) {
    detail::application_link link("trellis::qt::start_guest_run");
    guest_run run =
        trellis::start_guest_run(options, link.host(), std::move(done), std::move(fn), std::move(args)...);
    link.attach(run);
    return run;
}

// The same with default run options.
template <class Done, class F, class... A>
    requires(!trellis::detail::is_run_options_v<Done>)
guest_run start_guest_run(Done done, F fn, A... args) {
    return qt::start_guest_run(run_options{}, std::move(done), std::move(fn), std::move(args)...);
}

// Runs fn(args...) as a guest of the Qt event loop: starts the run, runs
// QCoreApplication::exec() and quits it when the run is over, then returns
// fn's value or rethrows its error. The quit is posted, so what was posted
// before the run ended (such as a close that cancel_on_close held back) is
// delivered, and what it deleteLater()'d deleted, before run() returns.
// Call it from main(), after creating the application and before its loop
// runs. If the loop ends first
// (QCoreApplication::exit(code), quit(), the last window closed), the main
// task is cancelled and run() keeps the loop going until the run is over.
// A fn that returns nothing (task<>) makes run() return an int for main()
// to return: the code the application passed to QCoreApplication::exit()
// when the loop ended first, or 0 when the main task finished first. A fn
// with a value returns it; if the loop ended first it throws run_error,
// having no value to return. Throws run_error as start_guest_run does, and
// when the thread is already inside a Qt event loop (use start_guest_run
// there).
//
//   int main(int argc, char** argv) {
//       QApplication app(argc, argv);
//       return trellis::qt::run(main_task);  // task<> main_task(): exit code
//   }
template <class F, class... A>
    requires(!trellis::detail::is_run_options_v<F>)
auto run(const run_options& options, F fn, A... args)
    -> std::conditional_t<std::is_void_v<trellis::detail::async_result_t<F, A...>>, int,
                          trellis::detail::async_result_t<F, A...>> {
    static_assert(trellis::detail::check_async_callable<F, A...>());
    using R = trellis::detail::async_result_t<F, A...>;
    if (detail::in_event_loop())
        throw run_error(
            "trellis::qt::run: this thread is already inside a Qt event loop; use "
            "trellis::qt::start_guest_run from there instead");
    // The locals below outlive the run: this function returns only once the
    // run is over.
    cancel_scope app_lifetime;  // cancelled when the application's loop ends first
    outcome<R> result;
    bool done = false;
    auto main = [&]() -> task<R> {
        if constexpr (std::is_void_v<R>) {
            co_await app_lifetime.run(std::move(fn), std::move(args)...);
        } else {
            std::optional<R> value = co_await app_lifetime.run(std::move(fn), std::move(args)...);
            if (!value)
                throw run_error(
                    "trellis::qt::run: the application's event loop ended before the main task "
                    "returned its value, so the main task was cancelled");
            co_return std::move(*value);
        }
    };
    qt::start_guest_run(options, [&](outcome<R> o) {
        result = std::move(o);
        done = true;
        detail::quit_application_loop();
    }, main);
    const int exit_code = detail::run_application_loop(done, [&] { app_lifetime.cancel(); });
    if constexpr (std::is_void_v<R>) {
        result.unwrap();
        return exit_code;  // 0 when the main task finished first: run() then quits with exit(0)
    } else {
        return result.unwrap();
    }
}

// The same with default run options.
template <class F, class... A>
    requires(!trellis::detail::is_run_options_v<F>)
auto run(F fn, A... args)
    -> std::conditional_t<std::is_void_v<trellis::detail::async_result_t<F, A...>>, int,
                          trellis::detail::async_result_t<F, A...>> {
    return qt::run(run_options{}, std::move(fn), std::move(args)...);
}

// co_await wait_signal(sender, &Class::signal): waits for the next emission
// of the signal and returns its arguments, decayed: nothing for a signal
// without arguments, the value for one, a std::tuple for several (a
// QPrivateSignal tag is not an argument). Emissions from other threads are
// delivered through the run's thread. A checkpoint: it always blocks until
// the emission. Cancelled, it disconnects at once and throws cancelled;
// later emissions do nothing. Throws closed_resource_error if the sender is
// destroyed while waiting, run_error for a null sender or outside a task.
template <class Sender, class Class, class Ret, class... Args>
    requires std::is_base_of_v<QObject, Class> && std::is_base_of_v<Class, Sender>
auto wait_signal(Sender* sender, Ret (Class::*signal)(Args...)) {
    using args = typename detail::listener_args<Args...>::type;
    return detail::wait_signal_as(static_cast<args*>(nullptr), sender, signal);
}

// co_await wait_signal(sender, &Class::signal, 500ms): the same, giving up
// after `timeout` (on the run's clock, so a mock clock drives it): throws
// too_slow_error if no emission came in time, and is then disconnected. A
// checkpoint. Throws std::invalid_argument at once for a negative timeout
// (as fail_after does), and what the form without a timeout throws.
template <class Sender, class Class, class Ret, class... Args>
    requires std::is_base_of_v<QObject, Class> && std::is_base_of_v<Class, Sender>
auto wait_signal(Sender* sender, Ret (Class::*signal)(Args...), duration timeout) {
    if (timeout < duration::zero())
        throw std::invalid_argument("trellis::qt::wait_signal: the timeout is negative; pass zero or more");
    auto wait = [](Sender* s, Ret (Class::*sig)(Args...)) { return qt::wait_signal(s, sig); };
    return fail_after(timeout, wait, sender, signal);
}

// Cancels `scope` when `object` is destroyed, for as long as this guard
// lives; destroying the guard disconnects. A null object counts as already
// destroyed: the scope is cancelled at once.
//
// When it cancels: from QObject::destroyed, which Qt emits when the object
// is already half destroyed (a widget's own members and children are gone
// or going), and the cancelled work runs its cleanup later still, after
// the object's memory is freed. Cleanup after this cancellation must not
// touch the object (nor its children): use it for work that only feeds an
// object, and for windows whose cleanup touches them (re-enabling a
// button, say) use cancel_on_close (trellis/qt/cancel_on_close.hpp), which
// cancels on the close request while the window is still alive.
//
// Declare the guard after the
// scope (it must not outlive it); construct and destroy it on the run's
// thread, where the cancellation is delivered even if the object dies on
// another thread. Not a checkpoint. Throws run_error for a null object off
// the run's thread (from cancel_scope::cancel).
//
//   trellis::cancel_scope scope;
//   trellis::qt::cancel_on_destroy guard(widget, scope);
//   co_await scope.run(fetch_and_show, widget);
class cancel_on_destroy {
public:
    cancel_on_destroy(QObject* object, cancel_scope& scope);
    cancel_on_destroy(const cancel_on_destroy&) = delete;
    cancel_on_destroy& operator=(const cancel_on_destroy&) = delete;

private:
    QObject context_;  // on the run's thread; destroying it disconnects
};

// Runs fn(args...) in a cancel scope that is cancelled if `object` is
// destroyed: work on behalf of an object stops when the object goes. As
// with cancel_on_destroy, the cancellation comes after the object is
// destroyed, so fn's cleanup must not touch it; run_until_closed
// (trellis/qt/cancel_on_close.hpp) is the form for windows whose cleanup
// does.
// Returns like move_on_after: for a void fn, true if fn finished and false
// if the object's destruction cut it short; otherwise the value, or
// std::nullopt if cut short. A null object counts as already destroyed.
// Whether it is a checkpoint depends on fn. Rethrows fn's errors.
template <class F, class... A>
auto run_while_alive(QObject* object, F fn, A... args) -> task<trellis::detail::guarded_result_t<F, A...>> {
    return trellis::detail::run_guarded<cancel_on_destroy>(object, std::move(fn), std::move(args)...);
}

}  // namespace trellis::qt

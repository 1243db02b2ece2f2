// trellis on a GLib main loop (GMainContext): guest runs and wait_signal.
//
// GLib's quirks, and what this adapter does about them:
//  * g_main_context_invoke() runs its function *inline* when the caller owns
//    the context (or can acquire it), so it is not a "run soon" post: it
//    would re-enter the scheduler in the middle of a step. We never use it.
//    Every post goes through GSources of our own: a queue drained by their
//    dispatch function, marked ready with g_source_set_ready_time(), which
//    is safe from any thread and also wakes a context blocked in poll()
//    (g_main_context_wakeup() would do that too, but warns when it races
//    with the context's destruction).
//  * A source belongs to the context it is attached to. Destroying the
//    context (its last g_main_context_unref) destroys and unrefs every
//    source attached to it; our sources' finalize then drops the queued
//    step callbacks unrun and abandons the run (a warning on stderr, the
//    done callback not called, later trellis calls raise run_error).
//    After that, posts from the worker thread are dropped safely. (In
//    host-native mode, run_options::guest_io, there is no worker: the run's
//    fd and deadline are watched by one more source of ours on the context,
//    destroyed with the others.)
//  * Each thread has a *thread-default* context (g_main_context_push_thread_default),
//    which is where GIO delivers the results of async calls started on that
//    thread. The functions here use it by default, falling back to the
//    global default context when none was pushed, like GIO.
//  * A context is run by one thread at a time (its owner). Start the run on
//    that thread: tasks, host callbacks and the done callback all run there.
//  * A source only runs when no source of higher priority (lower number)
//    is ready, so one that is always ready starves everything below it.
//    The run's wake-ups (I/O results from its worker thread, or the
//    native source's, and changes made by host code) come at
//    G_PRIORITY_DEFAULT, like GIO's async results; a run
//    that stays busy continues at G_PRIORITY_DEFAULT_IDLE, so it never
//    starves redraws, input or other idle work.
#pragma once

#include <glib-object.h>
#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <trellis/errors.hpp>
#include <trellis/detail/host_adapter.hpp>
#include <trellis/guest.hpp>
#include <trellis/run.hpp>
#include <trellis/task.hpp>

namespace trellis::glib {

namespace detail {

class channel;

// A guest_host whose posts go to GSources attached to `context` (null:
// the thread-default context), and the channel that owns those sources.
trellis::detail::attached_host<channel> attach(GMainContext* context);
// Remembers the run, so that the context's destruction can abandon it.
void bind(channel& link, const guest_run& run);
// The run is over: destroys the sources. Host thread only.
void detach(channel& link) noexcept;

// A GMainLoop on the thread-default context, run until quit() is called.
class loop {
public:
    loop();  // on the thread-default context
    ~loop();
    loop(const loop&) = delete;
    loop& operator=(const loop&) = delete;
    GMainContext* context() const noexcept { return context_; }
    void run();
    void quit() noexcept;

private:
    GMainContext* context_;
    GMainLoop* loop_;
    bool finished_ = false;
};

template <class D>
constexpr bool is_context_v = std::is_convertible_v<D, GMainContext*>;
template <class D>
constexpr bool is_options_v = trellis::detail::is_run_options_v<D>;

}  // namespace detail

// Starts fn(args...) as the main task of a guest run on `context`, a context
// the calling thread runs (null: the calling thread's thread-default context,
// or the global default context if none was pushed). Returns once the run
// is initialised (see trellis::start_guest_run); the run then proceeds as
// the context is iterated. `done(outcome<R>)` runs on this thread when the
// run ends; it must not throw. If the context is destroyed while the run is
// live, the run is abandoned (a warning on stderr; done is not called).
// Not a checkpoint. Throws run_error if a run is already active on this
// thread.
template <class Done, class F, class... A>
    requires(!detail::is_options_v<Done>)
guest_run start_guest_run(GMainContext* context, const run_options& options, Done done, F fn, A... args) {
    return trellis::detail::start_attached_guest_run(detail::attach(context), options, std::move(done), std::move(fn),
                                                     std::move(args)...);
}

// The same with default run options.
template <class Done, class F, class... A>
    requires(!detail::is_options_v<Done>)
guest_run start_guest_run(GMainContext* context, Done done, F fn, A... args) {
    return glib::start_guest_run(context, run_options{}, std::move(done), std::move(fn), std::move(args)...);
}

// On the thread-default context, with the given options.
template <class Done, class F, class... A>
    requires(!detail::is_options_v<Done>)
guest_run start_guest_run(const run_options& options, Done done, F fn, A... args) {
    return glib::start_guest_run(nullptr, options, std::move(done), std::move(fn), std::move(args)...);
}

// On the thread-default context, with default options.
template <class Done, class F, class... A>
    requires(!detail::is_context_v<Done> && !detail::is_options_v<Done>)
guest_run start_guest_run(Done done, F fn, A... args) {
    return glib::start_guest_run(nullptr, run_options{}, std::move(done), std::move(fn), std::move(args)...);
}

// Runs fn(args...) as a guest run on the calling thread's thread-default
// context, iterating it with a GMainLoop until the run ends, so other
// sources on that context keep being served. Returns the main task's value
// or rethrows its error. Throws run_error if a run is already active on
// this thread.
template <class F, class... A>
    requires(!detail::is_options_v<F>)
auto run(const run_options& options, F fn, A... args) -> trellis::detail::async_result_t<F, A...> {
    using R = trellis::detail::async_result_t<F, A...>;
    outcome<R> result;
    detail::loop host_loop;
    glib::start_guest_run(host_loop.context(), options,
                          [&](outcome<R> o) {
                              result = std::move(o);
                              host_loop.quit();
                          },
                          std::move(fn), std::move(args)...);
    host_loop.run();
    return result.unwrap();
}

template <class F, class... A>
    requires(!detail::is_options_v<F>)
auto run(F fn, A... args) -> trellis::detail::async_result_t<F, A...> {
    return glib::run(run_options{}, std::move(fn), std::move(args)...);
}

// ---- wait_signal ----

namespace detail {

// How a signal argument of GType `type` becomes a T, for wait_signal<T...>.
template <class T>
struct signal_arg {
    static_assert(!std::is_same_v<T, const char*> && !std::is_same_v<T, char*>,
                  "trellis::glib::wait_signal: a string argument does not outlive the emission; use std::string");
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_pointer_v<T>,
                  "trellis::glib::wait_signal: supported argument types are bool, integers, floating point, enums, "
                  "std::string and pointers (objects, boxed types, GParamSpec*, gpointer)");
    static bool accepts(GType type) noexcept {
        const GType f = G_TYPE_FUNDAMENTAL(type);
        if constexpr (std::is_same_v<T, bool>) {
            return f == G_TYPE_BOOLEAN;
        } else if constexpr (std::is_floating_point_v<T>) {
            return f == G_TYPE_DOUBLE ? sizeof(T) >= sizeof(double) : f == G_TYPE_FLOAT;
        } else if constexpr (std::is_pointer_v<T>) {
            const GTypeValueTable* table = g_type_value_table_peek(type);
            return f != G_TYPE_STRING && table && table->value_peek_pointer;
        } else {  // integers and enums: any GLib integer type whose range fits
            using U = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>::type;
            constexpr int bits = sizeof(U) * 8;
            constexpr bool is_signed = std::is_signed_v<U>;
            auto fits = [](int from_bits, bool from_signed) {
                return from_signed ? is_signed && bits >= from_bits : bits > from_bits || (!is_signed && bits >= from_bits);
            };
            switch (f) {
                case G_TYPE_CHAR: return fits(8, true);
                case G_TYPE_UCHAR: return fits(8, false);
                case G_TYPE_INT: case G_TYPE_ENUM: return fits(32, true);
                case G_TYPE_UINT: case G_TYPE_FLAGS: return fits(32, false);
                case G_TYPE_LONG: return fits(sizeof(glong) * 8, true);
                case G_TYPE_ULONG: return fits(sizeof(gulong) * 8, false);
                case G_TYPE_INT64: return fits(64, true);
                case G_TYPE_UINT64: return fits(64, false);
                default: return false;
            }
        }
    }
    static T read(const GValue* v) noexcept {
        const GType f = G_TYPE_FUNDAMENTAL(G_VALUE_TYPE(v));
        if constexpr (std::is_same_v<T, bool>) {
            return g_value_get_boolean(v) != FALSE;
        } else if constexpr (std::is_floating_point_v<T>) {
            return f == G_TYPE_DOUBLE ? static_cast<T>(g_value_get_double(v)) : static_cast<T>(g_value_get_float(v));
        } else if constexpr (std::is_pointer_v<T>) {
            return static_cast<T>(g_value_peek_pointer(v));
        } else {
            switch (f) {
                case G_TYPE_CHAR: return static_cast<T>(g_value_get_schar(v));
                case G_TYPE_UCHAR: return static_cast<T>(g_value_get_uchar(v));
                case G_TYPE_INT: return static_cast<T>(g_value_get_int(v));
                case G_TYPE_ENUM: return static_cast<T>(g_value_get_enum(v));
                case G_TYPE_UINT: return static_cast<T>(g_value_get_uint(v));
                case G_TYPE_FLAGS: return static_cast<T>(g_value_get_flags(v));
                case G_TYPE_LONG: return static_cast<T>(g_value_get_long(v));
                case G_TYPE_ULONG: return static_cast<T>(g_value_get_ulong(v));
                case G_TYPE_INT64: return static_cast<T>(g_value_get_int64(v));
                default: return static_cast<T>(g_value_get_uint64(v));
            }
        }
    }
};

template <>
struct signal_arg<std::string> {
    static bool accepts(GType type) noexcept { return G_TYPE_FUNDAMENTAL(type) == G_TYPE_STRING; }
    static std::string read(const GValue* v) {
        const char* s = g_value_get_string(v);
        return s ? s : "";
    }
};

// What the type-erased wait needs to know about the awaited arguments.
struct signal_shape {
    bool any_arguments;                       // untyped wait: the arguments are ignored
    std::size_t count;                        // how many the typed wait takes
    bool (*accepts)(std::size_t, GType);      // may argument i (of GType) become the i-th type?
    std::function<void(const GValue*)> read;  // stores the arguments (instance excluded)
};

// Waits for one emission of `signal` on `instance`; see wait_signal.
task<> wait_one_emission(gpointer instance, std::string signal, signal_shape shape);

template <class... T>
bool accepts_at([[maybe_unused]] std::size_t i, [[maybe_unused]] GType type) noexcept {
    std::size_t k = 0;
    return ((k++ == i && signal_arg<T>::accepts(type)) || ...);
}

// void for no argument, T for one, std::tuple<T...> for several.

}  // namespace detail

// co_await wait_signal(instance, "name"): waits until the GObject `instance`
// emits the signal (a detailed name like "notify::title" works); its
// arguments, if any, are ignored.
// co_await wait_signal<T...>(instance, "name"): the same for a signal with
// exactly those arguments; returns the argument (one T) or a std::tuple of
// them. T may be bool, an integer or enum type (any GLib integer argument
// whose range fits), float/double, std::string (a copy), or a pointer
// (GObject*, GParamSpec*, boxed, gpointer): pointers are borrowed from the
// emitter, take a reference to keep an object.
//
// A checkpoint; it always blocks until an emission. On cancellation the
// handler is disconnected and cancelled is thrown. If the instance is
// disposed or finalized while waiting, throws trellis::closed_resource_error.
// Throws run_error outside a task, if `instance` is not a GObject, if it has
// no such signal, or if the signal's arguments do not match T...
// Emissions on another thread are forwarded to the run's thread.
template <class... T>
task<trellis::detail::signal_value_t<T...>> wait_signal(gpointer instance, std::string signal) {
    auto values = std::make_shared<std::optional<std::tuple<T...>>>();
    detail::signal_shape shape{sizeof...(T) == 0, sizeof...(T), &detail::accepts_at<T...>,
                               [values](const GValue* args) {
                                   [&]<std::size_t... I>(std::index_sequence<I...>) {
                                       values->emplace(detail::signal_arg<T>::read(args + I)...);
                                   }(std::index_sequence_for<T...>{});
                               }};
    co_await detail::wait_one_emission(instance, std::move(signal), std::move(shape));
    if constexpr (sizeof...(T) == 1)
        co_return std::move(std::get<0>(**values));
    else if constexpr (sizeof...(T) > 1)
        co_return std::move(**values);
}

}  // namespace trellis::glib

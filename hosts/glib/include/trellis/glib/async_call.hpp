// Awaiting any GIO asynchronous operation (a *_async / *_finish pair) with
// trellis semantics: files, sockets, D-Bus, subprocesses, ...
//
//   GFileInputStream* in = co_await trellis::glib::async_call(
//       g_file_read_async, g_file_read_finish, file, G_PRIORITY_DEFAULT);
//
// How it maps. GIO's convention is
//   void xxx_async(Source* source, args..., GCancellable*, GAsyncReadyCallback, gpointer);
//   R    xxx_finish(Source* source, GAsyncResult*, GError**);
// async_call(start, finish, args...) calls start(args..., cancellable,
// callback, data) with a GCancellable of its own, blocks the task until GIO
// calls back, then calls finish(first of args, result, &error), or
// finish(result, &error) for the operations without a source object
// (g_bus_get_finish, ...). For a *_finish with more out-parameters, pass
// lambdas instead (they take the same arguments, and no args follow):
//
//   auto start = [file](GCancellable* c, GAsyncReadyCallback done, gpointer data) {
//       g_file_load_contents_async(file, c, done, data);
//   };
//   auto finish = [file, &contents, &length](GAsyncResult* r, GError** e) {
//       return g_file_load_contents_finish(file, r, &contents, &length, nullptr, e);
//   };
//   co_await trellis::glib::async_call(start, finish);
//
// (Name the lambdas first, as here, rather than writing them inside the
// co_await expression: g++ 12 miscompiles the latter; see DESIGN.md.)
//
// Cancellation is real: when the task's cancel scope is cancelled while the
// operation runs, the GCancellable is cancelled, GIO stops the operation
// and reports G_IO_ERROR_CANCELLED, and async_call raises trellis::cancelled.
// Until GIO has called back, the task stays blocked (GIO always calls back,
// and owns the operation's buffers until then). If the operation completed
// anyway, its result is returned and the cancellation is seen at the next
// checkpoint, as in Trio when an abort comes too late.
//
// Where it works: GIO delivers results on the thread-default main context
// of the thread that started the operation, so the run must be a guest on
// that context (glib::run, glib::start_guest_run, or Qt's event loop when
// Qt runs on GLib's default context). Elsewhere the result would never
// arrive; async_call raises run_error instead.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "trellis/glib/error.hpp"
#include "trellis/task.hpp"

namespace trellis::glib {

namespace detail {

using async_start = std::function<void(GCancellable*, GAsyncReadyCallback, gpointer)>;
using async_finish = std::function<void(GAsyncResult*, GError**)>;

// Runs one operation: start() begins it with a new GCancellable; the task
// blocks until GIO's callback, which calls finish(); then a GError that
// finish set is raised as glib::error (or as trellis::cancelled when the
// task's cancellation caused it). start and finish must live until the
// task returned from this resumes. A checkpoint.
task<> run_async_operation(const async_start& start, const async_finish& finish);

template <class... A>
struct first_arg {
    using type = void;
};
template <class A0, class... A>
struct first_arg<A0, A...> {
    using type = A0;
};

// finish(source, result, &error): the usual *_finish with a source object.
template <class Finish, class... A>
constexpr bool finish_takes_source() {
    if constexpr (sizeof...(A) == 0)
        return false;
    else
        return std::is_invocable_v<Finish&, typename first_arg<A...>::type&, GAsyncResult*, GError**>;
}

template <class Finish, class... A>
struct finish_result {
    using type = void;  // not callable either way: async_call's static_assert says so
};
template <class Finish, class... A>
    requires(finish_takes_source<Finish, A...>())
struct finish_result<Finish, A...> {
    using type = std::invoke_result_t<Finish&, typename first_arg<A...>::type&, GAsyncResult*, GError**>;
};
template <class Finish, class... A>
    requires(!finish_takes_source<Finish, A...>() && std::is_invocable_v<Finish&, GAsyncResult*, GError**>)
struct finish_result<Finish, A...> {
    using type = std::invoke_result_t<Finish&, GAsyncResult*, GError**>;
};

template <class A0, class... A>
A0& first_of(A0& a0, A&...) noexcept {
    return a0;
}

}  // namespace detail

// Runs the GIO operation start(args..., cancellable, callback, data) and
// returns what its finish function returns (ownership as GIO documents for
// that function: a "transfer full" result is the caller's to unref/free).
// A checkpoint: if the task is already cancelled, raises cancelled without
// starting the operation; it always blocks until GIO calls back.
// Cancelled while the operation runs: the GCancellable is cancelled and,
// once GIO reports G_IO_ERROR_CANCELLED, raises trellis::cancelled (see the
// file comment). Throws glib::error (domain, code, message) when the
// operation fails; run_error when called where GIO cannot deliver the
// result (see the file comment); whatever start or finish throw. Run's
// thread only.
template <class Start, class Finish, class... A>
auto async_call(Start start, Finish finish, A... args)
    -> task<typename detail::finish_result<Finish, A...>::type> {
    static_assert(std::is_invocable_v<Start&, A&..., GCancellable*, GAsyncReadyCallback, gpointer>,
                  "trellis::glib::async_call: start must be callable as start(args..., GCancellable*, "
                  "GAsyncReadyCallback, gpointer), like a GIO *_async function");
    constexpr bool with_source = detail::finish_takes_source<Finish, A...>();
    static_assert(with_source || std::is_invocable_v<Finish&, GAsyncResult*, GError**>,
                  "trellis::glib::async_call: finish must be callable as finish(source, GAsyncResult*, GError**) "
                  "with the first argument, or as finish(GAsyncResult*, GError**), like a GIO *_finish "
                  "function (cast the source to the type the function takes, e.g. G_INPUT_STREAM(s))");
    using R = typename detail::finish_result<Finish, A...>::type;
    // Holds finish's value; char stands in for void.
    std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
    const detail::async_start begin = [&](GCancellable* cancellable, GAsyncReadyCallback ready, gpointer data) {
        std::invoke(start, args..., cancellable, ready, data);
    };
    const detail::async_finish end = [&](GAsyncResult* result, GError** error) {
        if constexpr (std::is_void_v<R>) {
            if constexpr (with_source)
                std::invoke(finish, detail::first_of(args...), result, error);
            else
                std::invoke(finish, result, error);
            value.emplace();
        } else if constexpr (with_source) {
            value.emplace(std::invoke(finish, detail::first_of(args...), result, error));
        } else {
            value.emplace(std::invoke(finish, result, error));
        }
    };
    co_await detail::run_async_operation(begin, end);
    if constexpr (!std::is_void_v<R>) co_return std::move(*value);
}

}  // namespace trellis::glib

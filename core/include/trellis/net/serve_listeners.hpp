// trellis::serve_listeners: accept connections on listeners forever, one
// handler task per connection (Trio's serve_listeners).
//
//   auto handler = [](trellis::socket_stream& conn) -> trellis::task<> { ... };
//   auto ls = co_await n.start<std::vector<trellis::socket_listener*>>(
//       trellis::serve_listeners<trellis::socket_listener>, handler, std::move(listeners), nullptr);
//
// Each accepted connection runs handler(conn) in its own task, in
// handler_nursery if given, else in a nursery of serve_listeners; the
// connection is closed (aclose_forcefully) when the handler returns or
// fails. A handler's error propagates like any task's (it cancels the
// server, unless the handler nursery belongs to someone else).
//
// Resilience, as in Trio: when accept fails with EMFILE, ENFILE, ENOBUFS or
// ENOMEM (out of file descriptors or memory), the loop writes the error to
// stderr, sleeps 100 ms and tries again: running out of fds never stops
// the server. Other accept errors propagate.
#pragma once

#include <cerrno>
#include <cstdio>
#include <functional>
#include <system_error>
#include <vector>

#include "trellis/finally.hpp"
#include "trellis/nursery.hpp"
#include "trellis/sleep.hpp"
#include "trellis/streams/aclose_forcefully.hpp"
#include "trellis/task.hpp"
#include "trellis/task_status.hpp"

namespace trellis {

namespace detail {

inline bool accept_resource_error(int err) noexcept {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

template <class S>
task<> run_connection_handler(std::function<task<>(S&)> handler, S stream) {
    co_await finally([&]() { return handler(stream); }, [&]() { return aclose_forcefully(stream); });
}

template <class L>
task<> accept_loop(L& listener, const std::function<task<>(typename L::stream_type&)>& handler, nursery& into) {
    using S = typename L::stream_type;
    for (;;) {
        bool out_of_resources = false;
        try {
            S stream = co_await listener.accept();
            into.start_soon(run_connection_handler<S>, handler, std::move(stream));
        } catch (const std::system_error& e) {
            if (!accept_resource_error(e.code().value())) throw;
            std::fprintf(stderr, "trellis::serve_listeners: accept failed (%s); retrying in 100 ms\n", e.what());
            out_of_resources = true;
        }
        if (out_of_resources) co_await sleep(std::chrono::milliseconds(100));
    }
}

}  // namespace detail

// Serves every listener until cancelled (it never returns otherwise).
// Reports through `status` pointers to the listeners, which it owns and
// which stay valid until it returns; it closes them when it returns. L is a
// movable listener type with a stream_type (socket_listener, ...).
// A checkpoint. Throws what accept throws apart from the resource errors
// above, and what handlers throw when they run in its own nursery.
template <class L>
task<> serve_listeners(std::function<task<>(typename L::stream_type&)> handler, std::vector<L> listeners,
                       nursery* handler_nursery = nullptr, task_status<std::vector<L*>> status = {}) {
    auto body = [&](nursery& n) -> task<> {
        nursery& into = handler_nursery ? *handler_nursery : n;
        std::vector<L*> pointers;
        for (auto& l : listeners) {
            pointers.push_back(&l);
            n.start_soon(detail::accept_loop<L>, std::ref(l), std::cref(handler), std::ref(into));
        }
        status.started(std::move(pointers));
        co_return;
    };
    co_await finally([&]() { return open_nursery(body); },
                     [&]() -> task<> {
                         for (auto& l : listeners) co_await aclose_forcefully(l);
                     });
}

}  // namespace trellis

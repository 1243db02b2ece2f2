// Async cleanup: the try/finally shape C++ coroutines cannot write directly
// (co_await is not allowed inside a catch block).
//
//   co_await trellis::finally(
//       [&]() -> task<> { co_await use(conn); },
//       [&]() -> task<> { co_await conn.aclose(); });
//
//   co_await trellis::closing(conn, [&](auto& c) -> task<> { co_await use(c); });
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "trellis/cancel_scope.hpp"
#include "trellis/task.hpp"

namespace trellis {

// Runs body(), then cleanup(), and returns body's value. If body raised
// (cancelled included), cleanup runs inside a shielded cancel scope, so its
// own checkpoints are not cut short by the cancellation that is already
// unwinding, and then body's error is rethrown. If cleanup itself raises,
// that error wins (as in a C++ destructor-free try/finally), and body's
// error is lost; keep cleanups simple. Checkpoints are those of body and
// cleanup.
template <class Body, class Cleanup>
auto finally(Body body, Cleanup cleanup) -> task<detail::async_result_t<Body>> {
    static_assert(detail::check_async_callable<Body>());
    static_assert(detail::check_async_callable<Cleanup>());
    if constexpr (detail::async_callable<Body> && detail::async_callable<Cleanup>) {
        auto result = co_await detail::capture_call(body);
        if (result.has_error()) {
            cancel_scope shield(inf, true);
            co_await shield.run(std::move(cleanup));
        } else {
            co_await std::invoke(cleanup);
        }
        co_return result.unwrap();
    }
}

// Runs body(resource), then co_awaits resource.aclose() the same way
// finally() runs its cleanup. The one-liner for "use it, then close it
// gracefully whatever happens".
template <class Resource, class Body>
auto closing(Resource& resource, Body body)
    -> task<typename detail::is_task<std::invoke_result_t<Body&, Resource&>>::value_type> {
    co_return co_await finally([&]() { return std::invoke(body, resource); },
                               [&]() { return resource.aclose(); });
}

}  // namespace trellis

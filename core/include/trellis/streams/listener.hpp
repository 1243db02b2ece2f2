// trellis::listener<S>: a source of incoming connections (Trio's
// trio.abc.Listener), such as a listening TCP socket.
//
//   trellis::socket_stream conn = co_await listener.accept();
//
// accept() returns the connection by value (task<S>), not as
// std::unique_ptr<S>. Why: the common listeners (socket_listener) produce a
// concrete, movable value type (socket_stream), and returning it by value
// spares one heap allocation per connection and keeps the concrete type's
// extra members (setsockopt, ...) in reach. Code that needs polymorphism
// chooses S = std::unique_ptr<stream> (a listener of owned, type-erased
// streams); a TLS listener wraps a listener<S> of any S and returns its own
// value type, which owns the transport polymorphically.
//
// Ownership: the caller owns the listener; it is non-copyable; concrete
// listeners say whether they are movable. Threads: one run's thread only.
#pragma once

#include "trellis/streams/async_resource.hpp"
#include "trellis/task.hpp"

namespace trellis {

template <class S>
class listener : public virtual async_resource {
public:
    using stream_type = S;

    // Waits for the next incoming connection and returns it. A checkpoint;
    // if cancelled, no connection is taken. Throws busy_resource_error if
    // another task is in accept, closed_resource_error if the listener was
    // closed (before or during the call), and std::system_error for other
    // failures (EMFILE and the like, which a server loop may retry).
    task<S> accept() { return do_accept(); }

protected:
    listener() = default;
    listener(listener&&) = default;
    listener& operator=(listener&&) = default;

    virtual task<S> do_accept() = 0;
};

}  // namespace trellis

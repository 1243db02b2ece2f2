// trellis::socket_listener: a listening SOCK_STREAM socket as a
// listener<socket_stream> (Trio's SocketListener).
//
//   auto listeners = co_await trellis::open_tcp_listeners(8080);
//   trellis::socket_stream conn = co_await listeners[0].accept();
//
// accept() retries by itself after the errors that only mean "that one
// connection went away before we took it" (ECONNABORTED, EPROTO, EPERM,
// and the network-down family), as Trio does. Running out of resources
// (EMFILE, ENFILE, ENOBUFS, ENOMEM) comes out as std::system_error, so a
// server loop (serve_listeners) can wait and retry.
//
// Ownership: owns its socket; movable (while no accept is in progress), not
// copyable; the destructor closes the fd at once. Threads: one run's thread.
#pragma once

#include "trellis/net/socket.hpp"
#include "trellis/net/socket_stream.hpp"
#include "trellis/streams/conflict_detector.hpp"
#include "trellis/streams/listener.hpp"

namespace trellis {

class socket_listener final : public listener<socket_stream> {
public:
    // Takes ownership of a listening SOCK_STREAM socket. Not a checkpoint.
    // Throws std::invalid_argument if it is closed, not SOCK_STREAM or not
    // listening.
    explicit socket_listener(net::socket socket);
    socket_listener(socket_listener&& other) noexcept;
    socket_listener& operator=(socket_listener&& other) noexcept;
    ~socket_listener() override;

    net::socket& socket() noexcept { return socket_; }
    const net::socket& socket() const noexcept { return socket_; }

protected:
    // Closed while waiting: closed_resource_error.
    task<socket_stream> do_accept() override;
    task<> do_aclose() override;

private:
    net::socket socket_;
    conflict_detector accept_guard_{"socket_listener::accept: another task is already accepting"};
};

}  // namespace trellis

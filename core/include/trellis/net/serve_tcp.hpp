// trellis::serve_tcp: listen on a TCP port and serve each connection with a
// handler, forever (Trio's serve_tcp).
//
//   auto echo = [](trellis::socket_stream& conn) -> trellis::task<> { ... };
//   auto ls = co_await n.start(trellis::serve_tcp, echo, 0, trellis::serve_tcp_options{.host = "127.0.0.1"});
//   std::uint16_t port = ls[0]->socket().local_address().port();
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "trellis/net/socket_listener.hpp"
#include "trellis/nursery.hpp"
#include "trellis/task.hpp"
#include "trellis/task_status.hpp"

namespace trellis {

struct serve_tcp_options {
    // The host to listen on ("" = every local address); see open_tcp_listeners.
    std::string host;
    int backlog = SOMAXCONN;
    // Where handler tasks run; null: a nursery of serve_tcp.
    nursery* handler_nursery = nullptr;
};

// open_tcp_listeners(port, host, backlog), then serve_listeners with them.
// Reports the listeners (pointers valid until serve_tcp returns). Never
// returns except by cancellation or error. A checkpoint. Throws what
// open_tcp_listeners and serve_listeners throw.
task<> serve_tcp(std::function<task<>(socket_stream&)> handler, std::uint16_t port, serve_tcp_options options = {},
                 task_status<std::vector<socket_listener*>> status = {});

}  // namespace trellis

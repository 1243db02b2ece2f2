#include "trellis/net/serve_tcp.hpp"

#include "trellis/net/open_tcp_listeners.hpp"
#include "trellis/net/serve_listeners.hpp"

namespace trellis {

task<> serve_tcp(std::function<task<>(socket_stream&)> handler, std::uint16_t port, serve_tcp_options options,
                 task_status<std::vector<socket_listener*>> status) {
    auto listeners = co_await open_tcp_listeners(port, options.host, options.backlog);
    co_await serve_listeners<socket_listener>(std::move(handler), std::move(listeners), options.handler_nursery,
                                              std::move(status));
}

}  // namespace trellis

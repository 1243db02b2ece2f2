#include "trellis/testing/open_stream_to_socket_listener.hpp"

#include <netinet/in.h>

#include "trellis/net/socket.hpp"

namespace trellis::testing {

task<socket_stream> open_stream_to_socket_listener(const socket_listener& listener) {
    net::socket_address target = listener.socket().local_address();
    if (target.family() == AF_INET && target.host() == "0.0.0.0")
        target = net::socket_address::ipv4("127.0.0.1", target.port());
    else if (target.family() == AF_INET6 && target.host() == "::")
        target = net::socket_address::ipv6("::1", target.port());
    net::socket s = net::make_socket(target.family(), SOCK_STREAM, 0);
    co_await s.connect(target);
    co_return socket_stream(std::move(s));
}

}  // namespace trellis::testing

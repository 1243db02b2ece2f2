#include "trellis/net/unix_socket.hpp"

#include "trellis/net/socket.hpp"
#include "trellis/net/socket_address.hpp"

namespace trellis {

namespace {
net::socket_address unix_address(std::string_view path) {
    if (!path.empty() && path[0] == '@') return net::socket_address::parse(path);
    return net::socket_address::unix_path(path);
}
}  // namespace

task<socket_stream> open_unix_socket(std::string_view path) {
    const net::socket_address address = unix_address(path);
    net::socket s = net::make_socket(AF_UNIX, SOCK_STREAM, 0);
    co_await s.connect(address);
    co_return socket_stream(std::move(s));
}

socket_listener open_unix_listener(std::string_view path, int backlog) {
    const net::socket_address address = unix_address(path);
    net::socket s = net::make_socket(AF_UNIX, SOCK_STREAM, 0);
    s.bind(address);
    s.listen(backlog);
    return socket_listener(std::move(s));
}

}  // namespace trellis

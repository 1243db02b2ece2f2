#include "trellis/net/open_tcp_listeners.hpp"

#include <netinet/in.h>

#include <cerrno>
#include <system_error>

#include "trellis/net/getaddrinfo.hpp"
#include "trellis/net/socket.hpp"

namespace trellis {

task<std::vector<socket_listener>> open_tcp_listeners(std::uint16_t port, std::string host, int backlog) {
    const std::string service = std::to_string(port);  // named: see open_tcp_stream.cpp
    const net::addrinfo_hints hints{.family = AF_UNSPEC, .type = SOCK_STREAM, .flags = AI_PASSIVE};
    auto entries = co_await net::getaddrinfo(host, service, hints);
    std::vector<socket_listener> listeners;
    std::optional<std::system_error> unsupported;
    for (const auto& e : entries) {
        net::socket s;
        try {
            s = net::make_socket(e.family, e.type, e.protocol);
        } catch (const std::system_error& error) {
            if (error.code().value() != EAFNOSUPPORT) throw;
            unsupported = error;  // this system lacks the family: skip it
            continue;
        }
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
        if (e.family == AF_INET6) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
        s.bind(e.address);
        s.listen(backlog);
        listeners.emplace_back(std::move(s));
    }
    if (listeners.empty()) {
        if (unsupported) throw *unsupported;
        throw std::system_error(std::make_error_code(std::errc::address_not_available),
                                "open_tcp_listeners: no address to listen on for \"" + host + "\"");
    }
    co_return listeners;
}

}  // namespace trellis

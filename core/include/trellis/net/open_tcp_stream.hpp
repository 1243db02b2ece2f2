// trellis::open_tcp_stream: connect to a host and port over TCP, with
// Happy Eyeballs (RFC 8305, as Trio implements it).
//
//   trellis::socket_stream conn = co_await trellis::open_tcp_stream("localhost", 8080);
//
// The host is resolved (net::getaddrinfo, so the custom resolver hook
// applies); the addresses are reordered so that families alternate,
// starting with the family of the first one; then attempts start one after
// another: each waits until the previous attempt failed or
// happy_eyeballs_delay has passed. The first connection made wins; every
// other attempt is cancelled and its socket closed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trellis/clock.hpp"
#include "trellis/net/socket_address.hpp"
#include "trellis/net/socket_stream.hpp"
#include "trellis/task.hpp"

namespace trellis {

struct open_tcp_stream_options {
    // How long an attempt may run alone before the next one starts.
    duration happy_eyeballs_delay = std::chrono::milliseconds(250);
    // If set, every attempt binds to this local address first (its port is
    // usually 0); addresses of another family are skipped.
    std::optional<net::socket_address> local_address;
};

// Opens a TCP connection to host:port. Sockets come from net::make_socket
// (the custom socket factory applies). A checkpoint; if cancelled, every
// attempt is cancelled and every socket closed. Throws net::gaierror
// (naming the host) if the lookup fails, std::system_error whose message
// names every address tried and why each failed if no attempt succeeds
// (its code is the first failure's), std::invalid_argument if host is
// empty. Run's thread only.
task<socket_stream> open_tcp_stream(std::string host, std::uint16_t port, open_tcp_stream_options options = {});

}  // namespace trellis

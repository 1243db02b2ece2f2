// trellis::open_tcp_listeners: listening TCP sockets on a port, one per
// address family the host resolves to (Trio's open_tcp_listeners).
//
//   std::vector<trellis::socket_listener> ls = co_await trellis::open_tcp_listeners(0, "127.0.0.1");
//   std::uint16_t port = ls[0].socket().local_address().port();
#pragma once

#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "trellis/net/socket_listener.hpp"
#include "trellis/task.hpp"

namespace trellis {

// Resolves `host` with AI_PASSIVE (empty: every local address, IPv4 and
// IPv6) and opens one listener per result: SO_REUSEADDR set, IPV6_V6ONLY on
// IPv6 sockets (so the two families do not collide), bound and listening
// with `backlog`. With port 0 each listener gets its own free port.
// Sockets come from net::make_socket. A checkpoint. Throws
// std::system_error naming the address (address in use included); if some
// family is not supported by the system it is skipped, and the error comes
// out only if no listener could be opened. Every socket opened is closed
// if the call fails.
task<std::vector<socket_listener>> open_tcp_listeners(std::uint16_t port, std::string host = "",
                                                      int backlog = SOMAXCONN);

}  // namespace trellis

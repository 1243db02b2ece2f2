// The networking layer in one include: the socket module (trellis::net) and
// the high-level stream helpers built on it.
#pragma once

#include "trellis/net/fd_stream.hpp"
#include "trellis/net/getaddrinfo.hpp"
#include "trellis/net/open_tcp_listeners.hpp"
#include "trellis/net/open_tcp_stream.hpp"
#include "trellis/net/serve_listeners.hpp"
#include "trellis/net/serve_tcp.hpp"
#include "trellis/net/socket.hpp"
#include "trellis/net/socket_address.hpp"
#include "trellis/net/socket_listener.hpp"
#include "trellis/net/socket_stream.hpp"
#include "trellis/net/unix_socket.hpp"
#include "trellis/streams.hpp"

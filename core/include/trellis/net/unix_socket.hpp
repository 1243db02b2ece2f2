// UNIX domain stream sockets: open_unix_socket (Trio's open_unix_socket)
// and open_unix_listener.
//
//   auto listener = trellis::open_unix_listener("/tmp/app.sock");
//   trellis::socket_stream conn = co_await trellis::open_unix_socket("/tmp/app.sock");
//
// A path starting with '@' names an abstract socket (Linux), as in
// net::socket_address::parse.
#pragma once

#include <string_view>
#include <sys/socket.h>

#include "trellis/net/socket_listener.hpp"
#include "trellis/net/socket_stream.hpp"
#include "trellis/task.hpp"

namespace trellis {

// Connects to the UNIX socket at `path`. The socket comes from
// net::make_socket. A checkpoint. Throws std::system_error naming the path
// (ENOENT, ECONNREFUSED...), std::invalid_argument for a bad path.
task<socket_stream> open_unix_socket(std::string_view path);

// Binds a new UNIX stream socket to `path` and listens. A filesystem path
// must not exist yet (the caller removes stale ones; trellis does not
// delete files it did not create). Not a checkpoint. Throws
// std::system_error naming the path (EADDRINUSE if it exists).
socket_listener open_unix_listener(std::string_view path, int backlog = SOMAXCONN);

}  // namespace trellis

// trellis::testing::open_stream_to_socket_listener: connect to a listener
// of this process (Trio's open_stream_to_socket_listener).
#pragma once

#include "trellis/net/socket_listener.hpp"
#include "trellis/net/socket_stream.hpp"
#include "trellis/task.hpp"

namespace trellis::testing {

// Connects a new socket_stream to the address `listener` is bound to; a
// wildcard address (0.0.0.0, ::) is replaced by the loopback address of its
// family. A checkpoint. Throws std::system_error naming the address.
task<socket_stream> open_stream_to_socket_listener(const socket_listener& listener);

}  // namespace trellis::testing

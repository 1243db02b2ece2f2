// A TCP or UNIX-socket echo server: every byte a client sends comes back
// to it.
//
//   trellis_echo_server --host 127.0.0.1 --port 0
//   listening on 127.0.0.1:40123
//   trellis_echo_server --unix /tmp/echo.sock
//   listening on /tmp/echo.sock
//
// Port 0 picks a free port; the first line on stdout says which. A UNIX
// socket path must not exist yet (the server does not remove it on exit).
// One task per connection (serve_tcp, or serve_listeners on a UNIX
// listener); runs until killed.
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

trellis::task<> echo(trellis::socket_stream& conn) {
    std::byte buffer[16384];
    for (;;) {
        const std::size_t n = co_await conn.receive_some(buffer);
        if (n == 0) co_return;  // the client sent EOF
        co_await conn.send_all(std::span<const std::byte>(buffer, n));
    }
}

trellis::task<> serve(std::string host, std::uint16_t port) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::serve_tcp_options options{.host = host};
        auto listeners = co_await n.start(trellis::serve_tcp, echo, port, options);
        const auto address = listeners.at(0)->socket().local_address();
        std::printf("listening on %s\n", address.to_string().c_str());
        std::fflush(stdout);
    });
}

// The same over a UNIX socket: serve_listeners on one UNIX listener.
trellis::task<> serve_unix(std::string path) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        std::vector<trellis::socket_listener> listeners;
        listeners.push_back(trellis::open_unix_listener(path));
        co_await n.start(trellis::serve_listeners<trellis::socket_listener>, echo, std::move(listeners), nullptr);
        std::printf("listening on %s\n", path.c_str());
        std::fflush(stdout);
    });
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::string unix_path;
    long port = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = std::strtol(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--unix") == 0 && i + 1 < argc) {
            unix_path = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--host HOST] [--port PORT] | --unix PATH\n", argv[0]);
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "port out of range: %ld\n", port);
        return 2;
    }
    try {
        if (!unix_path.empty()) {
            trellis::run(serve_unix, unix_path);
            return 0;
        }
        trellis::run(serve, host, static_cast<std::uint16_t>(port));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}

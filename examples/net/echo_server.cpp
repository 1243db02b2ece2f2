// A TCP echo server: every byte a client sends comes back to it.
//
//   trellis_echo_server --host 127.0.0.1 --port 0
//   listening on 127.0.0.1:40123
//
// Port 0 picks a free port; the first line on stdout says which. One task
// per connection (serve_tcp); runs until killed.
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    long port = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = std::strtol(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: %s [--host HOST] [--port PORT]\n", argv[0]);
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "port out of range: %ld\n", port);
        return 2;
    }
    try {
        trellis::run(serve, host, static_cast<std::uint16_t>(port));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}

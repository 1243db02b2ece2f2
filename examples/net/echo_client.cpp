// A TCP echo client: sends its standard input to the server, writes what
// comes back to standard output, and ends once the server has echoed
// everything (it sends EOF after the input ends, then reads to the end).
//
//   echo hello | trellis_echo_client --host localhost --port 40123
//
// Reading stdin (an fd_stream over a dup of fd 0) and the socket run as two
// tasks of one nursery.
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

trellis::task<> copy_stdin_to(trellis::socket_stream& conn) {
    trellis::fd_stream input(::dup(0));
    std::byte buffer[16384];
    for (;;) {
        const std::size_t n = co_await input.receive_some(buffer);
        if (n == 0) break;
        co_await conn.send_all(std::span<const std::byte>(buffer, n));
    }
    co_await conn.send_eof();
}

trellis::task<> copy_to_stdout(trellis::socket_stream& conn) {
    std::byte buffer[16384];
    for (;;) {
        const std::size_t n = co_await conn.receive_some(buffer);
        if (n == 0) co_return;
        std::fwrite(buffer, 1, n, stdout);
        std::fflush(stdout);
    }
}

trellis::task<> client(std::string host, std::uint16_t port) {
    trellis::socket_stream conn = co_await trellis::open_tcp_stream(host, port);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(copy_stdin_to, std::ref(conn));
        n.start_soon(copy_to_stdout, std::ref(conn));
        co_return;
    });
    co_await conn.aclose();
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    long port = -1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = std::strtol(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: %s [--host HOST] --port PORT\n", argv[0]);
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s [--host HOST] --port PORT (1-65535)\n", argv[0]);
        return 2;
    }
    try {
        trellis::run(client, host, static_cast<std::uint16_t>(port));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_client: %s\n", e.what());
        return 1;
    }
}

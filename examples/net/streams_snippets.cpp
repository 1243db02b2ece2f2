// The README's "Streams and sockets" snippet, compiled and run: an echo
// server on serve_tcp and a client on open_tcp_stream, over loopback.
//
// check_readme_snippets.py (a meson test) fails when the README's block and
// this file drift apart.
#include <trellis/net.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

// ---- streams and sockets ----

// One task per connection: send back every byte until the client's EOF.
trellis::task<> echo(trellis::socket_stream& conn) {
    std::byte buffer[4096];
    for (;;) {
        const std::size_t n = co_await conn.receive_some(buffer);  // no allocation
        if (n == 0) co_return;                                     // end of file
        co_await conn.send_all(std::span<const std::byte>(buffer, n));
    }
}

trellis::task<std::string> echo_round_trip(std::string text) {
    std::string reply;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::serve_tcp_options options{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, echo, std::uint16_t{0}, options);  // 0: a free port
        const std::uint16_t port = listeners[0]->socket().local_address().port();

        trellis::socket_stream client = co_await trellis::open_tcp_stream("127.0.0.1", port);
        co_await client.send_all(text);
        co_await client.send_eof();  // half-close: the server sees EOF, we can still read
        for (;;) {
            std::string chunk = co_await client.receive_some();  // "" at end of file
            if (chunk.empty()) break;
            reply += chunk;
        }
        co_await client.aclose();
        n.cancel_scope().cancel();  // stop serving
    });
    co_return reply;
}

// ---- the snippet, run ----

TRELLIS_TEST(StreamsSnippet, EchoRoundTripReturnsWhatWasSent) {
    const std::string text = "hello, trellis\n";
    std::string reply = co_await echo_round_trip(text);
    EXPECT_EQ(reply, text);
}

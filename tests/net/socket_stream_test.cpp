// socket_stream and socket_listener over TCP and UNIX sockets, with the
// stream checkers.
#include "stream_makers.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <string>

using namespace std::chrono_literals;
using trellis::task;
using namespace trellis::testing;

namespace {

TRELLIS_TEST(SocketStream, TcpPassesTheHalfCloseableChecks) {
    co_await check_half_closeable_stream(net_test::tcp_pair);
}

TRELLIS_TEST(SocketStream, UnixSocketpairPassesTheHalfCloseableChecks) {
    co_await check_half_closeable_stream(net_test::unix_pair, net_test::clogged_unix_pair);
}

TRELLIS_TEST(SocketStream, UnixListenerAndOpenUnixSocketPassTheHalfCloseableChecks) {
    net_test::unix_listener_pairs make;
    co_await check_half_closeable_stream(std::ref(make));
}

TRELLIS_TEST(SocketStream, TurnsOnTcpNodelay) {
    auto pair = co_await net_test::tcp_pair();
    auto& s = static_cast<trellis::socket_stream&>(*pair.first);
    EXPECT_NE(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
}

TRELLIS_TEST_MOCK_CLOCK(SocketStream, ACancelledSendAllLeavesTheStreamUsable, clock) {
    (void)clock;
    auto pair = co_await net_test::tcp_pair();
    auto& a = *pair.first;
    auto& b = *pair.second;
    // Far more than the buffers hold: send_all blocks, then is cancelled.
    const std::string big(8 << 20, 'x');
    bool finished = co_await trellis::move_on_after(1s, [&]() { return a.send_all(big); });
    EXPECT_FALSE(finished);
    // Drain whatever arrived, then the stream still carries new data.
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await a.send_all("END");
            co_await a.send_eof();
        });
        std::string tail;
        for (;;) {
            std::string chunk = co_await b.receive_some();
            if (chunk.empty()) break;
            tail += chunk;
            if (tail.size() > 3) tail.erase(0, tail.size() - 3);
        }
        EXPECT_EQ(tail, "END");
    });
}

TRELLIS_TEST(SocketStream, ReceiveAfterThePeerResetsIsBrokenResourceError) {
    auto pair = co_await net_test::tcp_pair();
    auto& a = static_cast<trellis::socket_stream&>(*pair.first);
    // SO_LINGER 0: close sends a reset.
    linger l{1, 0};
    a.socket().setsockopt(SOL_SOCKET, SO_LINGER, &l, sizeof l);
    co_await a.aclose();
    bool broken = false;
    try {
        (void)co_await pair.second->receive_some();
    } catch (const trellis::broken_resource_error& e) {
        broken = std::string(e.what()).find("receive_some") != std::string::npos;
    }
    EXPECT_TRUE(broken);
}

TRELLIS_TEST(SocketListener, ClosingWakesABlockedAcceptWithClosedResourceError) {
    auto listeners = co_await trellis::open_tcp_listeners(0, "127.0.0.1");
    bool closed = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            try {
                (void)co_await listeners[0].accept();
            } catch (const trellis::closed_resource_error&) {
                closed = true;
            }
        });
        co_await wait_all_tasks_blocked();
        co_await listeners[0].aclose();
    });
    EXPECT_TRUE(closed);
}

TEST(SocketListener, RejectsASocketThatIsNotListening) {
    EXPECT_THROW(trellis::socket_listener{trellis::net::socket::create()}, std::invalid_argument);
}

TRELLIS_TEST(SocketStream, AStreamMovedIntoAVectorStillWorks) {
    auto pair = trellis::net::socket::socketpair();
    std::vector<trellis::socket_stream> streams;
    streams.emplace_back(std::move(pair.first));
    streams.emplace_back(std::move(pair.second));
    co_await streams[0].send_all("moved");
    std::string got = co_await streams[1].receive_some();
    EXPECT_EQ(got, "moved");
}

}  // namespace

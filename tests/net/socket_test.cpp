// net::socket: the non-blocking socket type.
#include "net_test_util.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <fcntl.h>
#include <netinet/in.h>

#include <string>

using namespace std::chrono_literals;
using trellis::task;
using trellis::net::socket;
using trellis::net::socket_address;

namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

TRELLIS_TEST(Socket, SocketpairCarriesBytesBothWays) {
    auto pair = socket::socketpair();
    co_await pair.first.send(bytes("ping"));
    std::string got = co_await pair.second.recv(100);
    EXPECT_EQ(got, "ping");
    co_await pair.second.send(bytes("pong"));
    got = co_await pair.first.recv(100);
    EXPECT_EQ(got, "pong");
}

TEST(Socket, CreatedSocketsAreNonBlockingAndCloseOnExec) {
    auto s = socket::create(AF_INET, SOCK_STREAM);
    EXPECT_NE(::fcntl(s.fileno(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(s.fileno(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(Socket, FromFdMakesTheFdNonBlockingAndReadsItsKind) {
    const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    auto s = socket::from_fd(fd);
    EXPECT_EQ(s.family(), AF_INET6);
    EXPECT_EQ(s.type(), SOCK_DGRAM);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
}

TEST(Socket, DestructionClosesTheFd) {
    const int before = net_test::open_fd_count();
    { auto s = socket::create(); EXPECT_EQ(net_test::open_fd_count(), before + 1); }
    EXPECT_EQ(net_test::open_fd_count(), before);
}

TRELLIS_TEST(Socket, ConnectRefusedNamesTheAddressAndLeaksNothing) {
    // A port nobody listens on: bind one, then close it.
    auto probe = socket::create();
    probe.bind(socket_address::ipv4("127.0.0.1", 0));
    const auto target = probe.local_address();
    probe.close();
    const int before = net_test::open_fd_count();
    std::string message;
    {
        auto s = socket::create();
        try {
            co_await s.connect(target);
        } catch (const std::system_error& e) {
            message = e.what();
            EXPECT_EQ(e.code().value(), ECONNREFUSED);
        }
    }
    EXPECT_NE(message.find(target.to_string()), std::string::npos) << message;
    EXPECT_EQ(net_test::open_fd_count(), before);
}

TEST(Socket, BindToAnAddressInUseNamesIt) {
    auto first = socket::create();
    first.bind(socket_address::ipv4("127.0.0.1", 0));
    first.listen();
    const auto taken = first.local_address();
    auto second = socket::create();
    try {
        second.bind(taken);
        ADD_FAILURE() << "bind succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find(taken.to_string()), std::string::npos) << e.what();
    }
}

TRELLIS_TEST(Socket, AcceptReturnsTheConnectionAndThePeerAddress) {
    auto l = socket::create();
    l.bind(socket_address::ipv4("127.0.0.1", 0));
    l.listen();
    auto c = socket::create();
    co_await c.connect(l.local_address());
    auto accepted = co_await l.accept();
    EXPECT_EQ(accepted.second, c.local_address());
    EXPECT_EQ(accepted.first.peer_address(), c.local_address());
}

TRELLIS_TEST_MOCK_CLOCK(Socket, ACancelledConnectClosesTheSocket, clock) {
    (void)clock;
    // A listener with a backlog of 0 that never accepts: after a connection
    // or two fill its queue, the kernel drops further SYNs and connect hangs.
    auto l = socket::create();
    l.bind(socket_address::ipv4("127.0.0.1", 0));
    l.listen(0);
    std::vector<trellis::net::socket> filler;
    bool hung = false;
    for (int i = 0; i < 8 && !hung; ++i) {
        auto s = socket::create();
        bool finished = co_await trellis::move_on_after(1s, [&]() { return s.connect(l.local_address()); });
        if (finished) {
            filler.push_back(std::move(s));
        } else {
            hung = true;
            EXPECT_TRUE(s.is_closed());
        }
    }
    EXPECT_TRUE(hung);
}

TRELLIS_TEST(Socket, ClosingWakesABlockedRecvWithClosedResourceError) {
    auto pair = socket::socketpair();
    bool closed_error = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            try {
                (void)co_await pair.first.recv(10);
            } catch (const trellis::closed_resource_error&) {
                closed_error = true;
            }
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        pair.first.close();
    });
    EXPECT_TRUE(closed_error);
}

TRELLIS_TEST(Socket, RecvOnAClosedSocketRaisesClosedResourceError) {
    auto s = socket::create();
    s.close();
    bool closed_error = false;
    try {
        (void)co_await s.recv(1);
    } catch (const trellis::closed_resource_error&) {
        closed_error = true;
    }
    EXPECT_TRUE(closed_error);
}

TRELLIS_TEST(Socket, TwoTasksReceivingAtOnceIsBusy) {
    auto pair = socket::socketpair();
    bool busy = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { (void)co_await pair.first.recv(10); });
        co_await trellis::testing::wait_all_tasks_blocked();
        try {
            (void)co_await pair.first.recv(10);
        } catch (const trellis::busy_resource_error&) {
            busy = true;
        }
        n.cancel_scope().cancel();
    });
    EXPECT_TRUE(busy);
}

TRELLIS_TEST(Socket, RecvIsACheckpointEvenWithDataReady) {
    auto pair = socket::socketpair();
    co_await pair.first.send(bytes("x"));
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> task<> { (void)co_await pair.second.recv(1); });
    EXPECT_TRUE(scope.cancelled_caught());
    std::string still_there = co_await pair.second.recv(1);
    EXPECT_EQ(still_there, "x");  // the cancelled recv took nothing
}

TRELLIS_TEST(Socket, UdpSendtoAndRecvfromOverLoopback) {
    auto a = socket::create(AF_INET, SOCK_DGRAM);
    auto b = socket::create(AF_INET, SOCK_DGRAM);
    a.bind(socket_address::ipv4("127.0.0.1", 0));
    b.bind(socket_address::ipv4("127.0.0.1", 0));
    co_await a.sendto(bytes("datagram"), b.local_address());
    auto got = co_await b.recvfrom(100);
    EXPECT_EQ(got.first, "datagram");
    EXPECT_EQ(got.second, a.local_address());
}

TRELLIS_TEST(Socket, SendWaitsForRoomAndThenSends) {
    auto pair = socket::socketpair();
    net_test::fill_until_would_block(pair.first.fileno());
    bool sent = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            (void)co_await pair.first.send(bytes("more"));
            sent = true;
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_FALSE(sent);
        std::byte sink[1 << 16];
        while (!sent) {
            (void)co_await pair.second.recv_into(sink);
            co_await trellis::testing::wait_all_tasks_blocked();
        }
    });
    EXPECT_TRUE(sent);
}

TEST(Socket, OptionsRoundTrip) {
    auto s = socket::create();
    s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    EXPECT_EQ(s.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 1);
}

class counting_factory final : public trellis::net::socket_factory {
public:
    int made = 0;
    trellis::net::socket make_socket(int family, int type, int protocol) override {
        ++made;
        return socket::create(family, type, protocol);
    }
};

TRELLIS_TEST(Socket, MakeSocketUsesTheCustomFactoryOfTheRun) {
    auto factory = std::make_shared<counting_factory>();
    auto previous = trellis::net::set_custom_socket_factory(factory);
    EXPECT_EQ(previous, nullptr);
    auto s = trellis::net::make_socket();
    EXPECT_EQ(factory->made, 1);
    trellis::net::set_custom_socket_factory(nullptr);
    auto t = trellis::net::make_socket();
    EXPECT_EQ(factory->made, 1);
    co_return;
}

}  // namespace

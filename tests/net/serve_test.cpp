// open_tcp_listeners, serve_listeners and serve_tcp.
#include "net_test_util.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <netinet/in.h>
#include <sys/resource.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using trellis::task;

namespace {

task<> echo(trellis::socket_stream& conn) {
    for (;;) {
        std::string data = co_await conn.receive_some();
        if (data.empty()) co_return;
        co_await conn.send_all(data);
    }
}

TRELLIS_TEST(OpenTcpListeners, OpensOneListenerPerFamilyWithV6Only) {
    auto listeners = co_await trellis::open_tcp_listeners(0);
    std::vector<int> families;
    for (auto& l : listeners) {
        families.push_back(l.socket().family());
        if (l.socket().family() == AF_INET6) {
            EXPECT_EQ(l.socket().getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
        }
    }
    EXPECT_GE(families.size(), 1u);
}

TRELLIS_TEST(OpenTcpListeners, AnAddressInUseIsNamed) {
    auto first = co_await trellis::open_tcp_listeners(0, "127.0.0.1");
    const auto taken = first[0].socket().local_address();
    std::string message;
    const int before = net_test::open_fd_count();
    try {
        // Another listener without SO_REUSEPORT cannot share the port.
        (void)co_await trellis::open_tcp_listeners(taken.port(), "127.0.0.1");
    } catch (const std::system_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find(taken.to_string()), std::string::npos) << message;
    EXPECT_EQ(net_test::open_fd_count(), before);
}

TRELLIS_TEST(ServeTcp, EchoesToAClientAndReportsItsListeners) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        // Named, not a braced temporary in the co_await: g++ 12 destroys such a
        // temporary twice.
        trellis::serve_tcp_options loopback{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, echo, std::uint16_t{0},
                                          loopback);
        EXPECT_EQ(listeners.size(), 1u);
        const auto port = listeners[0]->socket().local_address().port();
        auto conn = co_await trellis::open_tcp_stream("127.0.0.1", port);
        co_await conn.send_all("hello");
        std::string got = co_await conn.receive_some();
        EXPECT_EQ(got, "hello");
        n.cancel_scope().cancel();
    });
}

TRELLIS_TEST(ServeTcp, ClosesTheConnectionWhenTheHandlerReturns) {
    auto quick = [](trellis::socket_stream& conn) -> task<> { co_await conn.send_all("bye"); };
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        // Named, not a braced temporary in the co_await: g++ 12 destroys such a
        // temporary twice.
        trellis::serve_tcp_options loopback{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, quick, std::uint16_t{0},
                                          loopback);
        auto conn = co_await trellis::testing::open_stream_to_socket_listener(*listeners[0]);
        std::string all;
        for (;;) {
            std::string chunk = co_await conn.receive_some();
            if (chunk.empty()) break;
            all += chunk;
        }
        EXPECT_EQ(all, "bye");
        n.cancel_scope().cancel();
    });
}

TRELLIS_TEST(ServeListeners, RunsHandlersInTheGivenNursery) {
    std::vector<trellis::nursery*> handler_parents;
    co_await trellis::open_nursery([&](trellis::nursery& handlers) -> task<> {
        auto record = [&](trellis::socket_stream&) -> task<> {
            handler_parents.push_back(trellis::lowlevel::current_task().parent_nursery());
            co_return;
        };
        auto listeners = co_await trellis::open_tcp_listeners(0, "127.0.0.1");
        co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
            auto served = co_await n.start<std::vector<trellis::socket_listener*>>(
                trellis::serve_listeners<trellis::socket_listener>,
                std::function<task<>(trellis::socket_stream&)>(record), std::move(listeners), &handlers);
            auto conn = co_await trellis::testing::open_stream_to_socket_listener(*served[0]);
            while (handler_parents.empty()) co_await trellis::sleep(1ms);
            EXPECT_EQ(handler_parents[0], &handlers);
            n.cancel_scope().cancel();
        });
    });
    EXPECT_EQ(handler_parents.size(), 1u);
}

TRELLIS_TEST_MOCK_CLOCK(ServeTcp, KeepsServingAfterRunningOutOfFileDescriptors, clock) {
    (void)clock;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        // Named, not a braced temporary in the co_await: g++ 12 destroys such a
        // temporary twice.
        trellis::serve_tcp_options loopback{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, echo, std::uint16_t{0},
                                          loopback);
        auto client = trellis::net::socket::create();
        // Use up every fd the process may have.
        rlimit old{};
        ::getrlimit(RLIMIT_NOFILE, &old);
        rlimit low = old;
        low.rlim_cur = 256;
        ::setrlimit(RLIMIT_NOFILE, &low);
        ::testing::internal::CaptureStderr();  // it needs an fd of its own
        std::vector<int> hogs;
        for (;;) {
            const int fd = ::dup(0);
            if (fd < 0) break;
            hogs.push_back(fd);
        }
        co_await client.connect(listeners[0]->socket().local_address());
        co_await trellis::sleep(1s);  // the accept loop fails, sleeps 100 ms, retries...
        const std::string log = ::testing::internal::GetCapturedStderr();
        for (int fd : hogs) ::close(fd);
        ::setrlimit(RLIMIT_NOFILE, &old);
        EXPECT_NE(log.find("accept failed"), std::string::npos) << log;
        // ... and once fds are free again the waiting client is served.
        auto s = std::as_bytes(std::span(std::string_view("still here")));
        co_await client.send(s);
        std::string got = co_await client.recv(100);
        EXPECT_EQ(got, "still here");
        n.cancel_scope().cancel();
    });
}

}  // namespace

// open_tcp_stream: happy eyeballs, driven by a fake resolver (which may
// return addresses with different ports) and the mock clock.
#include "net_test_util.hpp"

#include <netdb.h>

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using trellis::task;
using namespace trellis::net;

namespace {

class list_resolver final : public hostname_resolver {
public:
    std::vector<socket_address> answer;
    task<std::vector<addrinfo_entry>> getaddrinfo(std::string, std::string, addrinfo_hints) override {
        std::vector<addrinfo_entry> out;
        for (const auto& a : answer) {
            addrinfo_entry e;
            e.family = a.family();
            e.type = SOCK_STREAM;
            e.address = a;
            out.push_back(e);
        }
        co_return out;
    }
    task<std::pair<std::string, std::string>> getnameinfo(socket_address, int) override {
        co_return std::pair<std::string, std::string>{};
    }
};

// Records the family of each socket made, in order.
class recording_factory final : public socket_factory {
public:
    std::vector<int> families;
    trellis::net::socket make_socket(int family, int type, int protocol) override {
        families.push_back(family);
        return socket::create(family, type, protocol);
    }
};

trellis::net::socket listening_on(const char* host) {
    auto s = socket::create(std::string(host).find(':') != std::string::npos ? AF_INET6 : AF_INET);
    s.bind(socket_address::ip(host, 0));
    s.listen();
    return s;
}

// An address nobody listens on (a port bound, then released).
socket_address refusing(const char* host) {
    auto s = socket::create(std::string(host).find(':') != std::string::npos ? AF_INET6 : AF_INET);
    s.bind(socket_address::ip(host, 0));
    return s.local_address();
}

// A listener whose accept queue is full: connecting to it hangs. Returns
// the listener and the sockets that fill it (all must stay open).
struct stalled_listener {
    trellis::net::socket listener;
    std::vector<trellis::net::socket> fillers;
};

task<stalled_listener> make_stalled_listener() {
    stalled_listener out;
    out.listener = socket::create();
    out.listener.bind(socket_address::ipv4("127.0.0.1", 0));
    out.listener.listen(0);
    for (;;) {
        auto s = socket::create();
        bool connected = co_await trellis::move_on_after(1s, [&]() { return s.connect(out.listener.local_address()); });
        if (!connected) break;
        out.fillers.push_back(std::move(s));
    }
    co_return out;
}

std::shared_ptr<list_resolver> install(std::vector<socket_address> answer) {
    auto r = std::make_shared<list_resolver>();
    r->answer = std::move(answer);
    set_custom_hostname_resolver(r);
    return r;
}

TRELLIS_TEST(OpenTcpStream, ConnectsToANumericAddress) {
    auto l = listening_on("127.0.0.1");
    auto conn = co_await trellis::open_tcp_stream("127.0.0.1", l.local_address().port());
    EXPECT_EQ(conn.socket().peer_address(), l.local_address());
}

TRELLIS_TEST(OpenTcpStream, SkipsRefusingAddressesAndConnectsToTheFirstThatAnswers) {
    auto good = listening_on("127.0.0.1");
    install({refusing("127.0.0.2"), refusing("::1"), good.local_address()});
    auto conn = co_await trellis::open_tcp_stream("multi.example", 1);
    EXPECT_EQ(conn.socket().peer_address(), good.local_address());
}

TRELLIS_TEST(OpenTcpStream, WhenEveryAttemptFailsTheErrorNamesEveryAddress) {
    const auto a = refusing("127.0.0.2");
    const auto b = refusing("::1");
    install({a, b});
    const int before = net_test::open_fd_count();
    std::string message;
    try {
        (void)co_await trellis::open_tcp_stream("down.example", 1);
    } catch (const std::system_error& e) {
        message = e.what();
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
    }
    EXPECT_NE(message.find(a.to_string()), std::string::npos) << message;
    EXPECT_NE(message.find(b.to_string()), std::string::npos) << message;
    EXPECT_NE(message.find("down.example"), std::string::npos) << message;
    EXPECT_EQ(net_test::open_fd_count(), before);
}

TRELLIS_TEST(OpenTcpStream, AlternatesAddressFamiliesStartingWithTheFirst) {
    install({refusing("127.0.0.2"), refusing("127.0.0.3"), refusing("::1"), refusing("127.0.0.4")});
    auto factory = std::make_shared<recording_factory>();
    set_custom_socket_factory(factory);
    try {
        (void)co_await trellis::open_tcp_stream("mixed.example", 1);
    } catch (const std::system_error&) {
    }
    EXPECT_EQ(factory->families, (std::vector<int>{AF_INET, AF_INET6, AF_INET, AF_INET}));
}

TRELLIS_TEST_MOCK_CLOCK(OpenTcpStream, StartsTheNextAttemptAfterTheDelayWhenOneHangs, clock) {
    (void)clock;
    auto stalled = co_await make_stalled_listener();
    auto good = listening_on("127.0.0.1");
    install({stalled.listener.local_address(), good.local_address()});
    const int before = net_test::open_fd_count();
    const auto start = trellis::current_time();
    auto conn = co_await trellis::open_tcp_stream("slow.example", 1, {.happy_eyeballs_delay = 300ms, .local_address = std::nullopt});
    EXPECT_EQ(trellis::current_time() - start, 300ms);
    EXPECT_EQ(conn.socket().peer_address(), good.local_address());
    EXPECT_EQ(net_test::open_fd_count(), before + 1);  // the hung attempt's socket is closed
}

TRELLIS_TEST_MOCK_CLOCK(OpenTcpStream, AFailureStartsTheNextAttemptWithoutWaiting, clock) {
    (void)clock;
    auto good = listening_on("127.0.0.1");
    install({refusing("127.0.0.2"), good.local_address()});
    const auto start = trellis::current_time();
    auto conn = co_await trellis::open_tcp_stream("flaky.example", 1);
    EXPECT_EQ(trellis::current_time() - start, 0ms);
    EXPECT_EQ(conn.socket().peer_address(), good.local_address());
}

TRELLIS_TEST_MOCK_CLOCK(OpenTcpStream, CancellationClosesEveryAttempt, clock) {
    (void)clock;
    auto stalled = co_await make_stalled_listener();
    install({stalled.listener.local_address(), stalled.listener.local_address()});
    const int before = net_test::open_fd_count();
    bool finished = co_await trellis::move_on_after(
        5s, [&]() -> task<> { (void)co_await trellis::open_tcp_stream("stuck.example", 1); });
    EXPECT_FALSE(finished);
    EXPECT_EQ(net_test::open_fd_count(), before);
}

TRELLIS_TEST(OpenTcpStream, AFailedLookupNamesTheHost) {
    std::string message;
    try {
        (void)co_await trellis::open_tcp_stream("no-such-host.invalid", 80);
    } catch (const std::system_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("no-such-host.invalid"), std::string::npos) << message;
}


TEST(OpenTcpStream, ConnectsThroughTheSystemResolverToLocalhost) {
    if (!net_test::system_resolves_localhost()) GTEST_SKIP() << "this system's resolver does not know localhost";
    trellis::testing::run_test([]() -> trellis::task<> {
        auto l = listening_on("127.0.0.1");
        auto conn = co_await trellis::open_tcp_stream("localhost", l.local_address().port());
        EXPECT_EQ(conn.socket().peer_address(), l.local_address());
    });
}

}  // namespace

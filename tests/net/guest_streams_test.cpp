// The stream checkers on socket streams inside a guest run on the plain
// queue host: the I/O layer works unchanged in guest mode.
#include "net_test_util.hpp"
#include "../guest/queue_host.hpp"

#include <gtest/gtest.h>
#include <trellis/testing/memory_stream.hpp>
#include <trellis/trellis.hpp>

#include <optional>

using namespace std::chrono_literals;
using trellis::task;

namespace {

template <class F>
void run_in_guest(F fn) {
    trellis::testing::queue_host loop;
    std::optional<trellis::outcome<void>> result;
    (void)trellis::start_guest_run(loop.host(), [&](trellis::outcome<void> o) { result.emplace(std::move(o)); }, fn);
    ASSERT_TRUE(loop.run_until([&] { return result.has_value(); }, 60s)) << "the guest run did not finish";
    try {
        result->unwrap();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "the guest run raised: " << e.what();
    }
}

TEST(GuestStreams, TcpSocketStreamsPassTheHalfCloseableChecksInAGuestRun) {
    run_in_guest([]() -> task<> {
        co_await trellis::testing::check_half_closeable_stream(net_test::tcp_pair);
    });
}

TEST(GuestStreams, UnixSocketpairStreamsPassTheTwoWayChecksInAGuestRun) {
    run_in_guest([]() -> task<> {
        auto make = []() -> task<trellis::testing::two_way_pair> {
            auto pair = trellis::net::socket::socketpair();
            co_return trellis::testing::two_way_pair{std::make_unique<trellis::socket_stream>(std::move(pair.first)),
                                                     std::make_unique<trellis::socket_stream>(std::move(pair.second))};
        };
        co_await trellis::testing::check_two_way_stream(make);
    });
}

TEST(GuestStreams, ServeTcpAndOpenTcpStreamWorkInAGuestRun) {
    run_in_guest([]() -> task<> {
        auto echo = [](trellis::socket_stream& conn) -> task<> {
            std::string data = co_await conn.receive_some();
            co_await conn.send_all(data);
        };
        co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
            // Named, not a braced temporary in the co_await: g++ 12 destroys such a
            // temporary twice.
            trellis::serve_tcp_options loopback{.host = "127.0.0.1"};
            auto ls = co_await n.start(trellis::serve_tcp, echo, std::uint16_t{0},
                                       loopback);
            auto conn = co_await trellis::open_tcp_stream("127.0.0.1", ls[0]->socket().local_address().port());
            co_await conn.send_all("guest");
            std::string got = co_await conn.receive_some();
            if (got != "guest") throw std::runtime_error("echo returned \"" + got + "\"");
            n.cancel_scope().cancel();
        });
    });
}

}  // namespace

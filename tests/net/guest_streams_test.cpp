// The I/O layer works unchanged in guest mode, on the plain queue host: the
// stream checkers on every stream kind (tests/guest/stream_checks.hpp, also
// instantiated on Qt, GLib and libevent), and serve_tcp with open_tcp_stream.
#include "../guest/queue_host.hpp"
#include "../guest/stream_checks.hpp"

#include <gtest/gtest.h>
#include <trellis/trellis.hpp>

#include <optional>

using namespace std::chrono_literals;
using trellis::task;

namespace {

class queue_host_fixture {
public:
    template <class Done, class F>
    void start(Done done, F fn) {
        (void)trellis::start_guest_run(loop_.host(), std::move(done), std::move(fn));
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return loop_.run_until(pred, timeout);
    }

private:
    trellis::testing::queue_host loop_;
};

using GuestStreams = stream_checks::GuestStreamChecks<queue_host_fixture>;

TEST_F(GuestStreams, ServeTcpAndOpenTcpStreamWorkInAGuestRun) {
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

namespace stream_checks {
INSTANTIATE_TYPED_TEST_SUITE_P(QueueHost, GuestStreamChecks, ::testing::Types<queue_host_fixture>);
}

// fd_stream over pipes.
#include "stream_makers.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

using trellis::task;
using namespace trellis::testing;

namespace {

using net_test::make_pipe;

TRELLIS_TEST(FdStream, APipePassesTheOneWayChecks) {
    co_await check_one_way_stream(net_test::pipe_pair, net_test::clogged_pipe_pair);
}

TRELLIS_TEST(FdStream, TwoPipesStapledPassTheTwoWayChecks) { co_await check_two_way_stream(net_test::stapled_pipes); }

TEST(FdStream, SetsNonBlockingAndRestoresTheModeOnClose) {
    auto [r, w] = make_pipe();
    const int keep = ::dup(r);  // shares the open file, so its mode is visible after close
    {
        trellis::fd_stream s(r);
        EXPECT_NE(::fcntl(keep, F_GETFL) & O_NONBLOCK, 0);
    }
    EXPECT_EQ(::fcntl(keep, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(::fcntl(r, F_GETFD), -1);  // closed
    ::close(keep);
    ::close(w);
}

TRELLIS_TEST(FdStream, WritingToAPipeWithNoReaderIsBroken) {
    auto [r, w] = make_pipe();
    ::close(r);
    trellis::fd_stream s(w);
    bool broken = false;
    try {
        co_await s.send_all("x");
    } catch (const trellis::broken_resource_error&) {
        broken = true;
    }
    EXPECT_TRUE(broken);
}

}  // namespace

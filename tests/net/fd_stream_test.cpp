// fd_stream over pipes.
#include "net_test_util.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

using trellis::task;
using namespace trellis::testing;

namespace {

std::pair<int, int> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    return {fds[0], fds[1]};
}

task<one_way_pair> pipe_pair() {
    auto [r, w] = make_pipe();
    co_return one_way_pair{std::make_unique<trellis::fd_stream>(w), std::make_unique<trellis::fd_stream>(r)};
}

task<one_way_pair> clogged_pipe_pair() {
    auto [r, w] = make_pipe();
    auto writer = std::make_unique<trellis::fd_stream>(w);
    static const char chunk[4096] = {};
    while (::write(w, chunk, sizeof chunk) > 0) {
    }
    co_return one_way_pair{std::move(writer), std::make_unique<trellis::fd_stream>(r)};
}

task<two_way_pair> stapled_pipes() {
    auto [r1, w1] = make_pipe();
    auto [r2, w2] = make_pipe();
    co_return two_way_pair{
        std::make_unique<trellis::stapled_stream>(std::make_unique<trellis::fd_stream>(w1),
                                                  std::make_unique<trellis::fd_stream>(r2)),
        std::make_unique<trellis::stapled_stream>(std::make_unique<trellis::fd_stream>(w2),
                                                  std::make_unique<trellis::fd_stream>(r1))};
}

TRELLIS_TEST(FdStream, APipePassesTheOneWayChecks) { co_await check_one_way_stream(pipe_pair, clogged_pipe_pair); }

TRELLIS_TEST(FdStream, TwoPipesStapledPassTheTwoWayChecks) { co_await check_two_way_stream(stapled_pipes); }

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

// Lockstep streams: no buffering at all.
#include <trellis/streams.hpp>
#include <trellis/testing/check_streams.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/lockstep_stream.hpp>
#include <trellis/trellis.hpp>

#include <memory>
#include <string>

using trellis::task;
using namespace trellis::testing;

namespace {

two_way_pair stapled_lockstep_pair() {
    auto pair = lockstep_stream_pair();
    return {std::make_unique<trellis::stapled_stream>(std::move(pair.first)),
            std::make_unique<trellis::stapled_stream>(std::move(pair.second))};
}

TRELLIS_TEST(LockstepStream, SendAllBlocksUntilTheReceiverHasTakenEveryByte) {
    auto pair = lockstep_stream_one_way_pair();
    auto& s = *pair.first;
    auto& r = *pair.second;
    bool sent = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await s.send_all("abcd");
            sent = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(sent);
        std::string first = co_await r.receive_some(2);
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(first, "ab");
        EXPECT_FALSE(sent);
        std::string second = co_await r.receive_some(2);
        EXPECT_EQ(second, "cd");
    });
    EXPECT_TRUE(sent);
}

TRELLIS_TEST(LockstepStream, WaitSendAllMightNotBlockWaitsForAReceiver) {
    auto pair = lockstep_stream_one_way_pair();
    auto& s = *pair.first;
    auto& r = *pair.second;
    bool ready = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await s.wait_send_all_might_not_block();
            ready = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(ready);
        n.start_soon([&]() -> task<> { (void)co_await r.receive_some(1); });
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(ready);
        n.cancel_scope().cancel();
    });
}

TRELLIS_TEST(LockstepStream, OneWayPairPassesTheOneWayChecksIncludingClogged) {
    auto make = []() -> task<one_way_pair> { co_return lockstep_stream_one_way_pair(); };
    co_await check_one_way_stream(make, make);
}

// Not the half-closeable checks: a lockstep send half cannot half-close, so
// the stapled stream's send_eof closes it, which cannot tell a concurrent
// send_all that it is busy (Trio runs the two-way checks on it too).
TRELLIS_TEST(LockstepStream, PairPassesTheTwoWayChecksIncludingClogged) {
    auto make = []() -> task<two_way_pair> { co_return stapled_lockstep_pair(); };
    co_await check_two_way_stream(make, make);
}

}  // namespace

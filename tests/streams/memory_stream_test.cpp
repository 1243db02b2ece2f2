// Memory streams: buffers, hooks, the pump and the connected pairs.
#include <trellis/streams.hpp>
#include <trellis/testing/check_streams.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/memory_stream.hpp>
#include <trellis/trellis.hpp>

#include <memory>
#include <string>

using namespace std::chrono_literals;
using trellis::task;
using namespace trellis::testing;

namespace {

TRELLIS_TEST(MemorySendStream, KeepsWhatIsSentForGetData) {
    memory_send_stream s;
    co_await s.send_all("ab");
    co_await s.send_all("cd");
    std::string got = co_await s.get_data();
    EXPECT_EQ(got, "abcd");
}

TRELLIS_TEST(MemorySendStream, GetDataReturnsAtMostMaxBytes) {
    memory_send_stream s;
    co_await s.send_all("abcd");
    EXPECT_EQ(s.get_data_nowait(3), "abc");
    EXPECT_EQ(s.get_data_nowait(3), "d");
}

TRELLIS_TEST(MemorySendStream, GetDataNowaitOnAnEmptyOpenStreamThrowsWouldBlock) {
    memory_send_stream s;
    EXPECT_THROW(s.get_data_nowait(), trellis::would_block);
    co_return;
}

TRELLIS_TEST(MemorySendStream, GetDataWaitsForASend) {
    memory_send_stream s;
    std::string got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { got = co_await s.get_data(); });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(got, "");
        co_await s.send_all("late");
    });
    EXPECT_EQ(got, "late");
}

TRELLIS_TEST(MemorySendStream, SendAllHookRunsAfterTheDataIsBuffered) {
    memory_send_stream s;
    std::string seen;
    s.send_all_hook = [&]() -> task<> {
        seen = s.get_data_nowait();
        co_return;
    };
    co_await s.send_all("xyz");
    EXPECT_EQ(seen, "xyz");
}

TRELLIS_TEST(MemorySendStream, CloseHookRunsOnAclose) {
    memory_send_stream s;
    int closes = 0;
    s.close_hook = [&]() { ++closes; };
    co_await s.aclose();
    EXPECT_EQ(closes, 1);
}

TRELLIS_TEST(MemoryReceiveStream, ReturnsWhatWasPutThenEndOfFile) {
    memory_receive_stream r;
    r.put_data("hi");
    r.put_eof();
    std::string first = co_await r.receive_some();
    std::string second = co_await r.receive_some();
    EXPECT_EQ(first, "hi");
    EXPECT_EQ(second, "");
}

TRELLIS_TEST(MemoryReceiveStream, ReceiveSomeHookRunsBeforeLookingForData) {
    memory_receive_stream r;
    r.receive_some_hook = [&]() -> task<> {
        r.put_data("from hook");
        co_return;
    };
    std::string got = co_await r.receive_some();
    EXPECT_EQ(got, "from hook");
}

TRELLIS_TEST(MemoryStreamPump, MovesBufferedBytesAndReportsWhetherItDid) {
    memory_send_stream s;
    memory_receive_stream r;
    EXPECT_FALSE(memory_stream_pump(s, r));
    co_await s.send_all("abc");
    EXPECT_TRUE(memory_stream_pump(s, r, 2));
    std::string got = co_await r.receive_some();
    EXPECT_EQ(got, "ab");
}

TRELLIS_TEST(MemoryStreamPump, IntoAClosedReceiverThrowsBrokenResourceError) {
    memory_send_stream s;
    memory_receive_stream r;
    co_await s.send_all("abc");
    r.close();
    EXPECT_THROW(memory_stream_pump(s, r), trellis::broken_resource_error);
}

TRELLIS_TEST(MemoryStreamOneWayPair, DeliversWhatIsSent) {
    auto pair = memory_stream_one_way_pair();
    co_await pair.first->send_all("ping");
    std::string got = co_await pair.second->receive_some();
    EXPECT_EQ(got, "ping");
}

TRELLIS_TEST(MemoryStreamOneWayPair, SendingAfterTheReceiverIsDestroyedIsBroken) {
    auto pair = memory_stream_one_way_pair();
    pair.second.reset();
    bool broken = false;
    try {
        co_await pair.first->send_all("x");
    } catch (const trellis::broken_resource_error&) {
        broken = true;
    }
    EXPECT_TRUE(broken);
}

TRELLIS_TEST(MemoryStreamOneWayPair, PassesTheOneWayChecks) {
    co_await check_one_way_stream([]() -> task<one_way_pair> { co_return memory_stream_one_way_pair(); });
}

TRELLIS_TEST(MemoryStreamPair, PassesTheHalfCloseableChecks) {
    co_await check_half_closeable_stream([]() -> task<half_closeable_pair> {
        auto pair = memory_stream_pair();
        co_return half_closeable_pair{std::make_unique<trellis::stapled_stream>(std::move(pair.first)),
                                      std::make_unique<trellis::stapled_stream>(std::move(pair.second))};
    });
}

}  // namespace

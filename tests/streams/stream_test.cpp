// The stream interfaces' non-virtual front, conflict_detector and
// aclose_forcefully.
#include <trellis/streams.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/memory_stream.hpp>
#include <trellis/trellis.hpp>

#include <stdexcept>
#include <string>

using trellis::task;

namespace {

// A receive stream that counts how often its implementation is reached.
class counting_receive_stream final : public trellis::receive_stream {
public:
    int calls = 0;

protected:
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override {
        ++calls;
        co_await trellis::checkpoint();
        buffer[0] = std::byte{'a'};
        co_return 1;
    }
    task<> do_aclose() override { co_await trellis::checkpoint(); }
};

TRELLIS_TEST(Stream, ReceiveSomeIntoAnEmptyBufferThrowsInvalidArgumentWithoutReachingTheStream) {
    counting_receive_stream r;
    bool threw = false;
    try {
        (void)co_await r.receive_some(std::span<std::byte>());
    } catch (const std::invalid_argument& e) {
        threw = std::string(e.what()).find("receive_some") != std::string::npos;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(r.calls, 0);
}

TRELLIS_TEST(Stream, ReceiveSomeOfZeroBytesThrowsInvalidArgument) {
    counting_receive_stream r;
    bool threw = false;
    try {
        (void)co_await r.receive_some(std::size_t{0});
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(r.calls, 0);
}

TRELLIS_TEST(Stream, OwnedReceiveSomeReturnsOnlyTheBytesRead) {
    counting_receive_stream r;
    std::string got = co_await r.receive_some(100);
    EXPECT_EQ(got, "a");
}

TEST(ConflictDetector, SecondEntryThrowsBusyResourceErrorWithTheGivenMessage) {
    trellis::conflict_detector d("send_all: another task is sending");
    auto first = d.enter();
    try {
        auto second = d.enter();
        ADD_FAILURE() << "second enter did not throw";
    } catch (const trellis::busy_resource_error& e) {
        EXPECT_STREQ(e.what(), "send_all: another task is sending");
    }
}

TEST(ConflictDetector, IsFreeAgainOnceTheGuardIsGone) {
    trellis::conflict_detector d("x");
    { auto g = d.enter(); EXPECT_TRUE(d.held()); }
    EXPECT_FALSE(d.held());
    auto again = d.enter();
    EXPECT_TRUE(d.held());
}

// A resource whose graceful close blocks until cancelled.
class slow_closer final : public trellis::async_resource {
public:
    bool closed = false;

protected:
    task<> do_aclose() override {
        closed = true;  // closes at once, then waits to be "graceful"
        co_await trellis::sleep_forever();
    }
};

TRELLIS_TEST(AcloseForcefully, ClosesAResourceWhoseGracefulCloseWouldBlockForever) {
    slow_closer r;
    co_await trellis::aclose_forcefully(r);
    EXPECT_TRUE(r.closed);
}

TRELLIS_TEST(AcloseForcefully, IsACheckpointThatLetsOthersRun) {
    auto pair = trellis::testing::memory_stream_one_way_pair();
    auto& s = pair.first;
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            other_ran = true;
            co_return;
        });
        co_await trellis::aclose_forcefully(*s);
        EXPECT_TRUE(other_ran);
    });
}

}  // namespace

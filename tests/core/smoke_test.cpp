#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

using namespace std::chrono_literals;

TRELLIS_TEST(Smoke, NurseryRunsChildren) {
    int done = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&](int i) -> trellis::task<> { co_await trellis::checkpoint(); done += i; }, 1);
        n.start_soon([&](int i) -> trellis::task<> { co_await trellis::checkpoint(); done += i; }, 2);
        co_return;
    });
    EXPECT_EQ(done, 3);
}

TRELLIS_TEST_MOCK_CLOCK(Smoke, SleepAutojumps, clock) {
    co_await trellis::sleep(1h);
    EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1h);
    bool finished = co_await trellis::move_on_after(1s, []() -> trellis::task<> { co_await trellis::sleep_forever(); });
    EXPECT_FALSE(finished);
    (void)clock;
}

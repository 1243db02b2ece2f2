// sleep, sleep_until, sleep_forever: when they wake, and that they are
// checkpoints even when they do not block.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using trellis::time_point;

TRELLIS_TEST_MOCK_CLOCK(Sleep, WakesAtNowPlusDuration, clock) {
    clock.jump(5s);
    co_await trellis::sleep(90min);
    EXPECT_EQ(trellis::current_time(), time_point{} + 5s + 90min);
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, RoundsFractionalDurationsUpToNanoseconds, clock) {
    co_await trellis::sleep(std::chrono::duration<double, std::nano>(1.5));
    EXPECT_EQ(trellis::current_time(), time_point{} + 2ns);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, SleepUntilWakesAtTheDeadline, clock) {
    clock.jump(1s);
    co_await trellis::sleep_until(time_point{} + 1h);
    EXPECT_EQ(trellis::current_time(), time_point{} + 1h);
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, SleepUntilAPastDeadlineReturnsWithoutMovingTheClock, clock) {
    clock.jump(1h);
    co_await trellis::sleep_until(time_point{} + 1s);
    EXPECT_EQ(trellis::current_time(), time_point{} + 1h);
}

// A zero sleep does not block, but other tasks still get to run
// before it returns.
TRELLIS_TEST_MOCK_CLOCK(Sleep, ZeroSleepLetsOtherTasksRun, clock) {
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            log.push_back("sleeper before");
            co_await trellis::sleep(0s);
            log.push_back("sleeper after");
        });
        n.start_soon([&]() -> trellis::task<> {
            log.push_back("other");
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(log, (std::vector<std::string>{"sleeper before", "other", "sleeper after"}));
    EXPECT_EQ(trellis::current_time(), time_point{});
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, ANegativeDurationRaisesInvalidArgumentNamingSleep, clock) {
    std::string message;
    try {
        co_await trellis::sleep(-5s);
    } catch (const std::invalid_argument& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("trellis::sleep"), std::string::npos) << message;
    EXPECT_EQ(clock.current_time(), trellis::time_point{});
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, ZeroSleepInACancelledScopeThrowsCancelled, clock) {
    trellis::cancel_scope scope;
    scope.cancel();
    bool reached_end = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::sleep(0s);
        reached_end = true;
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, SleepForeverEndsOnlyByCancellation, clock) {
    trellis::cancel_scope scope;
    bool reached_end = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await trellis::sleep_forever();
                reached_end = true;
            });
        });
        // Years of virtual time pass; the sleeper is still asleep.
        co_await trellis::sleep(24h * 365 * 10);
        EXPECT_FALSE(scope.cancelled_caught());
        scope.cancel();
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(trellis::current_time(), time_point{} + 24h * 365 * 10);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, ManySleepersWakeInDeadlineOrder, clock) {
    std::vector<int> woke;
    const int delays[] = {7, 3, 9, 1, 5, 2, 8, 6, 4, 10};
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int d : delays)
            n.start_soon(
                [&woke](int seconds) -> trellis::task<> {
                    co_await trellis::sleep(std::chrono::seconds(seconds));
                    EXPECT_EQ(trellis::current_time(), time_point{} + std::chrono::seconds(seconds));
                    woke.push_back(seconds);
                },
                d);
        co_return;
    });
    EXPECT_EQ(woke, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, SleepersWithEqualDeadlinesWakeInTheOrderTheySlept, clock) {
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 5; ++i)
            n.start_soon(
                [&woke](int id) -> trellis::task<> {
                    co_await trellis::sleep_until(time_point{} + 1s);
                    woke.push_back(id);
                },
                i);
        co_return;
    });
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3, 4}));
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Sleep, CancellingASleeperDisarmsItsTimer, clock) {
    // The cancelled sleeper's 1 s timer must be gone: the clock then jumps
    // straight to the other sleeper's 2 s deadline, and nothing fires at 1 s.
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep(1s); });
        });
        co_await trellis::checkpoint();
        scope.cancel();
        co_await trellis::sleep(2s);
        EXPECT_EQ(trellis::current_time(), time_point{} + 2s);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST(Sleep, RealClockSleepTakesAtLeastTheDuration) {
    const auto start = std::chrono::steady_clock::now();
    const time_point trellis_start = trellis::current_time();
    co_await trellis::sleep(5ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
    EXPECT_GE(trellis::current_time() - trellis_start, 5ms);
}

TRELLIS_TEST(Sleep, RealClockSleepUntilThePastIsACheckpoint) {
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await trellis::sleep_until(trellis::current_time() - 1h);
        EXPECT_TRUE(other_ran);
    });
}

TRELLIS_TEST(Sleep, RealClockSleepUntilNegativeInfinityIsACheckpoint) {
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await trellis::sleep_until(trellis::neg_inf);
        EXPECT_TRUE(other_ran);
    });
}

TRELLIS_TEST(Sleep, RealClockSleepForTheLongestDurationCanBeCancelled) {
    // The deadline saturates at inf instead of overflowing.
    bool finished = co_await trellis::move_on_after(1ms, []() -> trellis::task<> {
        co_await trellis::sleep(trellis::duration::max());
    });
    EXPECT_FALSE(finished);
}

TRELLIS_TEST(Sleep, RealClockSleepUntilNegativeInfinityReturnsWhenNothingElseIsRunnable) {
    const time_point before = trellis::current_time();
    co_await trellis::sleep_until(trellis::neg_inf);
    EXPECT_LT(trellis::current_time() - before, 1s);
}

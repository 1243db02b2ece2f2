// testing::mock_clock: virtual time, jumps, rate, and autojump.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using trellis::time_point;
using trellis::testing::mock_clock;

namespace {
using real_clock = std::chrono::steady_clock;

std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Runs body(clock) under a mock clock with autojump threshold 0, failing
// (instead of hanging) after a few seconds of real time.
template <class Body>
void run_fast(Body body) {
    trellis::testing::run_test_with_mock_clock(body, 5s);
}
}  // namespace

TEST(MockClock, StartsAtTimeZero) {
    mock_clock clock;
    EXPECT_EQ(clock.current_time(), time_point{});
    EXPECT_EQ(clock.rate(), 0.0);
    EXPECT_EQ(clock.autojump_threshold(), trellis::duration::max());
}

TEST(MockClock, StandsStillAtRateZero) {
    mock_clock clock;
    std::this_thread::sleep_for(2ms);
    EXPECT_EQ(clock.current_time(), time_point{});
}

TEST(MockClock, JumpAdvancesVirtualTime) {
    mock_clock clock;
    clock.jump(1200ms);
    EXPECT_EQ(clock.current_time(), time_point{} + 1200ms);
    clock.jump(800ms);
    EXPECT_EQ(clock.current_time(), time_point{} + 2s);
}

TEST(MockClock, JumpBackwardsThrowsAndLeavesTheTime) {
    mock_clock clock;
    clock.jump(1s);
    EXPECT_THROW(clock.jump(-1ns), std::invalid_argument);
    EXPECT_EQ(clock.current_time(), time_point{} + 1s);
}

TEST(MockClock, NegativeRateThrows) {
    EXPECT_THROW(mock_clock(-1.0), std::invalid_argument);
    mock_clock clock;
    EXPECT_THROW(clock.set_rate(-0.5), std::invalid_argument);
    EXPECT_EQ(clock.rate(), 0.0);
}

TEST(MockClock, NegativeAutojumpThresholdThrows) {
    EXPECT_THROW(mock_clock(0.0, -1ms), std::invalid_argument);
    mock_clock clock;
    EXPECT_THROW(clock.set_autojump_threshold(-1ns), std::invalid_argument);
}

TEST(MockClock, PositiveRateAdvancesWithRealTime) {
    mock_clock clock(10.0);
    const time_point start = clock.current_time();
    std::this_thread::sleep_for(5ms);
    // At least 5 ms of real time passed: at least 50 ms of virtual time.
    EXPECT_GE(clock.current_time() - start, 50ms);
}

TEST(MockClock, ChangingTheRateKeepsTheCurrentTime) {
    mock_clock clock;
    clock.jump(3s);
    clock.set_rate(1000.0);
    EXPECT_GE(clock.current_time(), time_point{} + 3s);
    std::this_thread::sleep_for(2ms);
    clock.set_rate(0.0);
    const time_point frozen = clock.current_time();
    EXPECT_GE(frozen, time_point{} + 5s);
    std::this_thread::sleep_for(2ms);
    EXPECT_EQ(clock.current_time(), frozen);
}

TEST(MockClock, DeadlineToSleepTimeIsZeroForPastDeadlines) {
    mock_clock clock;
    clock.jump(2s);
    EXPECT_EQ(clock.deadline_to_sleep_time(time_point{} + 1s), trellis::duration::zero());
    EXPECT_EQ(clock.deadline_to_sleep_time(time_point{} + 2s), trellis::duration::zero());
    EXPECT_EQ(clock.deadline_to_sleep_time(trellis::neg_inf), trellis::duration::zero());
}

TEST(MockClock, DeadlineToSleepTimeIsUnlimitedAtRateZero) {
    mock_clock clock;
    EXPECT_EQ(clock.deadline_to_sleep_time(time_point{} + 1s), trellis::duration::max());
}

TEST(MockClock, DeadlineToSleepTimeScalesByTheRate) {
    mock_clock clock;
    clock.jump(1s);
    clock.set_rate(2.0);
    const auto wait = clock.deadline_to_sleep_time(clock.current_time() + 1s);
    EXPECT_LE(wait, 500ms);
    EXPECT_GT(wait, 490ms);
}

TEST(MockClock, RateAdvancesVirtualTimeDuringARun) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(trellis::duration::max());
        clock.set_rate(10.0);
        const auto real_start = real_clock::now();
        co_await trellis::sleep(100ms);  // ~10 ms of real time
        EXPECT_GE(real_clock::now() - real_start, 10ms);
        EXPECT_GE(trellis::current_time(), time_point{} + 100ms);
    });
}

TEST(MockClock, JumpDuringARunWakesSleepersWhoseDeadlinePassed) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(trellis::duration::max());
        bool woke = false;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::sleep(10s);
                woke = true;
            });
            co_await trellis::testing::wait_all_tasks_blocked();
            clock.jump(9s);
            co_await trellis::testing::wait_all_tasks_blocked();
            EXPECT_FALSE(woke);
            clock.jump(1s);
        });
        EXPECT_TRUE(woke);
        EXPECT_EQ(trellis::current_time(), time_point{} + 10s);
    });
}

TEST(MockClock, AutojumpThresholdZeroMakesAnHourLongSleepInstant) {
    const auto real_start = real_clock::now();
    run_fast([](mock_clock&) -> trellis::task<> {
        for (int i = 0; i < 10; ++i) co_await trellis::sleep(1h);
        EXPECT_EQ(trellis::current_time(), time_point{} + 10h);
    });
    EXPECT_LT(real_clock::now() - real_start, 1s);
}

TEST(MockClock, AutojumpWithAThresholdWaitsForThatMuchRealIdleness) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(10ms);
        const auto real_start = real_clock::now();
        co_await trellis::sleep(1h);
        EXPECT_GE(real_clock::now() - real_start, 10ms);
        EXPECT_EQ(trellis::current_time(), time_point{} + 1h);
    });
}

TEST(MockClock, AutojumpWithAThresholdDoesNotJumpWhileTasksKeepRunning) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(5ms);
        real_clock::time_point busy_end{};
        real_clock::time_point woke_at{};
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::sleep(1s);
                woke_at = real_clock::now();
            });
            // Busy for 20 ms of real time, yielding all the while.
            const auto start = real_clock::now();
            while (real_clock::now() - start < 20ms) {
                co_await trellis::checkpoint();
                EXPECT_EQ(trellis::current_time(), time_point{});
            }
            busy_end = real_clock::now();
        });
        EXPECT_GE(woke_at, busy_end);
        EXPECT_EQ(trellis::current_time(), time_point{} + 1s);
    });
}

TEST(MockClock, AutojumpDoesNotJumpWhileATaskIsRunnable) {
    run_fast([](mock_clock&) -> trellis::task<> {
        std::vector<std::string> log;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::sleep(1s);
                log.push_back("sleeper woke");
            });
            for (int i = 0; i < 100; ++i) {
                co_await trellis::checkpoint();
                EXPECT_EQ(trellis::current_time(), time_point{});
            }
            log.push_back("busy done");
        });
        EXPECT_EQ(log, (std::vector<std::string>{"busy done", "sleeper woke"}));
    });
}

TEST(MockClock, AutojumpJumpsToTheNextDeadlineOnly) {
    run_fast([](mock_clock&) -> trellis::task<> {
        std::vector<time_point> woke;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            for (auto d : {3s, 1s, 2s})
                n.start_soon(
                    [&woke](trellis::duration delay) -> trellis::task<> {
                        co_await trellis::sleep(delay);
                        woke.push_back(trellis::current_time());
                    },
                    d);
            co_return;
        });
        EXPECT_EQ(woke, (std::vector<time_point>{time_point{} + 1s, time_point{} + 2s, time_point{} + 3s}));
    });
}

TEST(MockClock, ChangingTheThresholdDuringARunTakesEffectAtOnce) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(10000s);
        EXPECT_EQ(clock.autojump_threshold(), trellis::duration(10000s));
        co_await trellis::testing::wait_all_tasks_blocked();
        clock.set_autojump_threshold(trellis::duration::zero());
        // With the old threshold still in force this would hang (and the
        // watchdog would fail the test).
        co_await trellis::sleep(100000s);
        EXPECT_EQ(trellis::current_time(), time_point{} + 100000s);
    });
}

TEST(MockClock, ThresholdSetBeforeTheRunIsPickedUp) {
    auto clock = std::make_shared<mock_clock>(0.0, 1h);
    clock->set_autojump_threshold(1ms);
    trellis::run_options options;
    options.clock = clock;
    const auto real_start = real_clock::now();
    trellis::run(options, []() -> trellis::task<> { co_await trellis::sleep(10000s); });
    EXPECT_LT(real_clock::now() - real_start, 1s);
    EXPECT_EQ(clock->current_time(), time_point{} + 10000s);
}

TEST(MockClock, ThresholdOfAClockNotInTheRunHasNoEffect) {
    run_fast([](mock_clock& clock) -> trellis::task<> {
        clock.set_autojump_threshold(20ms);
        mock_clock other;
        // If this threshold reached the run, wait_all_tasks_blocked(15 ms)
        // would never see 15 ms of idleness.
        other.set_autojump_threshold(5ms);
        co_await trellis::testing::wait_all_tasks_blocked(15ms);
        co_await trellis::sleep(100000s);
        EXPECT_EQ(trellis::current_time(), time_point{} + 100000s);
    });
}

TEST(MockClock, AutojumpWaitsForTasksInWaitAllTasksBlockedWithNoCushion) {
    run_fast([](mock_clock&) -> trellis::task<> {
        std::vector<std::string> log;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::sleep(100s);
                log.push_back("yawn");
            });
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::testing::wait_all_tasks_blocked();
                log.push_back("waiter woke");
                co_await trellis::sleep(1000s);
                log.push_back("waiter done");
            });
            co_return;
        });
        EXPECT_EQ(log, (std::vector<std::string>{"waiter woke", "yawn", "waiter done"}));
    });
}

TEST(MockClock, AutojumpWaitsForTasksInWaitAllTasksBlockedWithACushion) {
    run_fast([](mock_clock&) -> trellis::task<> {
        std::vector<std::string> log;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::sleep(100s);
                log.push_back("yawn");
            });
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::testing::wait_all_tasks_blocked(5ms);
                log.push_back("waiter done");
            });
            co_return;
        });
        EXPECT_EQ(log, (std::vector<std::string>{"waiter done", "yawn"}));
    });
}

TEST(MockClock, AutojumpDoesNotBusyLoopWhileWaitingForIoWithNoDeadline) {
    run_fast([](mock_clock&) -> trellis::task<> {
        int fds[2];
        EXPECT_EQ(::pipe(fds), 0);
        std::thread writer([fd = fds[1]] {
            std::this_thread::sleep_for(30ms);
            EXPECT_EQ(::write(fd, "x", 1), 1);
        });
        const auto cpu_start = thread_cpu_time();
        co_await trellis::wait_readable(fds[0]);
        // Waiting for 30 ms in epoll costs next to no CPU; spinning on a
        // zero timeout would cost most of the 30 ms.
        EXPECT_LT(thread_cpu_time() - cpu_start, 10ms);
        writer.join();
        ::close(fds[0]);
        ::close(fds[1]);
    });
}

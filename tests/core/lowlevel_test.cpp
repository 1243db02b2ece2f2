// The low-level API's smaller pieces: current_clock, current_statistics,
// reschedule with a value, idempotent run_sync_soon, assert_checkpoints.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <unistd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace lowlevel = trellis::lowlevel;

namespace {
struct oops : std::runtime_error {
    oops() : std::runtime_error("oops") {}
};

// A wait that any task can end through `waiter`.
template <class T>
trellis::task<T> wait_for_value(lowlevel::task_handle& waiter) {
    waiter = lowlevel::current_task();
    co_return co_await lowlevel::wait_task_rescheduled<T>(
        [&](const std::exception_ptr&) noexcept { return lowlevel::abort_result::succeeded; });
}
}  // namespace

TRELLIS_TEST_MOCK_CLOCK(LowLevel, CurrentClockIsTheRunsClock, clock) {
    EXPECT_EQ(&lowlevel::current_clock(), &clock);
    co_return;
}

TEST(LowLevel, CurrentClockOutsideARunRaisesRunError) {
    EXPECT_THROW(lowlevel::current_clock(), trellis::run_error);
}

TRELLIS_TEST_MOCK_CLOCK(LowLevel, CurrentStatisticsCountsTasksDeadlinesAndWaiters, clock) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const std::size_t living_before = lowlevel::current_statistics().tasks_living;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([]() -> trellis::task<> { co_await trellis::sleep(5s); });
        n.start_soon([&]() -> trellis::task<> { co_await trellis::wait_readable(fds[0]); });
        co_await trellis::testing::wait_all_tasks_blocked();
        const auto stats = lowlevel::current_statistics();
        EXPECT_EQ(stats.tasks_living, living_before + 2);
        EXPECT_EQ(stats.tasks_runnable, 0u);
        EXPECT_EQ(stats.time_to_next_deadline, 5s);
        EXPECT_EQ(stats.io.tasks_waiting_read, 1u);
        EXPECT_EQ(stats.io.tasks_waiting_write, 0u);
        EXPECT_STREQ(stats.io.backend, "epoll");
        trellis::current_token().run_sync_soon([] {});
        EXPECT_EQ(lowlevel::current_statistics().run_sync_soon_queue_size, 1u);
        n.cancel_scope().cancel();
    });
    ::close(fds[0]);
    ::close(fds[1]);
    (void)clock;
}

TRELLIS_TEST(LowLevel, RescheduleHandsAValueToTheWait) {
    lowlevel::task_handle waiter;
    std::optional<std::string> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { got = co_await wait_for_value<std::string>(waiter); });
        co_await trellis::testing::wait_all_tasks_blocked();
        lowlevel::reschedule(waiter, trellis::outcome<std::string>::from_value("hello"));
    });
    EXPECT_EQ(got, "hello");
}

TRELLIS_TEST(LowLevel, RescheduleWithAnErrorMakesTheWaitThrowIt) {
    lowlevel::task_handle waiter;
    bool thrown = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                co_await wait_for_value<int>(waiter);
            } catch (const oops&) {
                thrown = true;
            }
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        lowlevel::reschedule(waiter, trellis::outcome<int>::from_error(std::make_exception_ptr(oops())));
    });
    EXPECT_TRUE(thrown);
}

TRELLIS_TEST(LowLevel, RescheduleWithTheWrongValueTypeRaisesRunErrorAndLeavesTheTaskBlocked) {
    lowlevel::task_handle waiter;
    int got = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { got = co_await wait_for_value<int>(waiter); });
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_THROW(lowlevel::reschedule(waiter, trellis::outcome<std::string>::from_value("x")), trellis::run_error);
        EXPECT_THROW(lowlevel::reschedule(waiter), trellis::run_error);  // no value at all
        lowlevel::reschedule(waiter, trellis::outcome<int>::from_value(5));
    });
    EXPECT_EQ(got, 5);
}

TRELLIS_TEST(LowLevel, IdempotentRunSyncSoonQueuesAnEqualCallbackOnce) {
    static int calls = 0;
    calls = 0;
    void (*bump)() = [] { ++calls; };
    auto tok = trellis::current_token();
    tok.run_sync_soon(bump, true);
    tok.run_sync_soon(bump, true);
    tok.run_sync_soon(bump, false);  // not idempotent: always queued
    co_await trellis::testing::wait_all_tasks_blocked();
    EXPECT_EQ(calls, 2);
    tok.run_sync_soon(bump, true);  // the first one has run: queued again
    co_await trellis::testing::wait_all_tasks_blocked();
    EXPECT_EQ(calls, 3);
}

TRELLIS_TEST(LowLevel, IdempotentRunSyncSoonComparesCallablesWithEquals) {
    struct add {
        int* total;
        int amount;
        void operator()() const { *total += amount; }
        bool operator==(const add&) const = default;
    };
    int total = 0;
    auto tok = trellis::current_token();
    tok.run_sync_soon(add{&total, 1}, true);
    tok.run_sync_soon(add{&total, 1}, true);
    tok.run_sync_soon(add{&total, 10}, true);
    co_await trellis::testing::wait_all_tasks_blocked();
    EXPECT_EQ(total, 11);
}

TRELLIS_TEST(LowLevel, AssertCheckpointsPassesForACheckpointAndFailsForPlainCode) {
    co_await trellis::testing::assert_checkpoints([]() -> trellis::task<> { co_await trellis::checkpoint(); });
    co_await trellis::testing::assert_checkpoints([]() -> trellis::task<> { co_await trellis::sleep(0s); });
    bool failed = false;
    try {
        co_await trellis::testing::assert_checkpoints([]() -> trellis::task<> { co_return; });
    } catch (const trellis::testing::assertion_error&) {
        failed = true;
    }
    EXPECT_TRUE(failed);
}

TRELLIS_TEST(LowLevel, AssertCheckpointsFailsForHalfACheckpoint) {
    // checkpoint_if_cancelled checks for cancellation but does not yield.
    bool failed = false;
    try {
        co_await trellis::testing::assert_checkpoints(
            []() -> trellis::task<> { co_await trellis::checkpoint_if_cancelled(); });
    } catch (const trellis::testing::assertion_error&) {
        failed = true;
    }
    EXPECT_TRUE(failed);
}

TRELLIS_TEST(LowLevel, AssertNoCheckpointsPassesForPlainCodeAndFailsForACheckpoint) {
    const int v = co_await trellis::testing::assert_no_checkpoints([]() -> trellis::task<int> { co_return 3; });
    EXPECT_EQ(v, 3);
    bool failed = false;
    try {
        co_await trellis::testing::assert_no_checkpoints(
            []() -> trellis::task<> { co_await trellis::lowlevel::cancel_shielded_checkpoint(); });
    } catch (const trellis::testing::assertion_error&) {
        failed = true;
    }
    EXPECT_TRUE(failed);
}

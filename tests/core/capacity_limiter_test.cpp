// trellis::capacity_limiter.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// The label statistics() gives a borrower, or "" if it is not a borrower.
std::string label_of(const trellis::capacity_limiter& limiter, const void* borrower) {
    for (const auto& [b, label] : limiter.statistics().borrowers)
        if (b == borrower) return label;
    return "";
}

}  // namespace

TRELLIS_TEST_MOCK_CLOCK(CapacityLimiter, TokensCapHowManyTasksRunAtOnce, clock) {
    trellis::capacity_limiter limiter(2);
    int running = 0;
    int most_running = 0;
    int finished = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 6; ++i)
            n.start_soon([&]() -> trellis::task<> {
                auto token = co_await limiter.hold();
                ++running;
                most_running = std::max(most_running, running);
                co_await trellis::sleep(1s);
                --running;
                ++finished;
            });
        co_return;
    });
    EXPECT_EQ(most_running, 2);
    EXPECT_EQ(finished, 6);
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 3s);
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, AcquireWithATokenFreeIsACheckpoint) {
    trellis::capacity_limiter limiter(1);
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await limiter.acquire();
        EXPECT_TRUE(other_ran);
        limiter.release();
    });
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> { co_await limiter.acquire(); });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, EachBorrowerObjectHoldsItsOwnToken) {
    trellis::capacity_limiter limiter(2);
    int job_a = 0;
    int job_b = 0;
    co_await limiter.acquire_on_behalf_of(&job_a);
    co_await limiter.acquire_on_behalf_of(&job_b);
    EXPECT_EQ(limiter.borrowed_tokens(), 2u);
    EXPECT_EQ(limiter.available_tokens(), 0u);
    limiter.release_on_behalf_of(&job_a);
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    EXPECT_THROW(limiter.release_on_behalf_of(&job_a), trellis::run_error);
    limiter.release_on_behalf_of(&job_b);
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, ABorrowerAcquiringTwiceRaisesRunError) {
    trellis::capacity_limiter limiter(3);
    co_await limiter.acquire();
    bool raised = false;
    try {
        co_await limiter.acquire();
    } catch (const trellis::run_error&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_THROW(limiter.acquire_nowait(), trellis::run_error);
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    limiter.release();

    int job = 0;
    co_await limiter.acquire_on_behalf_of(&job);
    EXPECT_THROW(limiter.acquire_on_behalf_of_nowait(&job), trellis::run_error);
    bool raised_on_behalf = false;
    try {
        co_await limiter.acquire_on_behalf_of(&job);
    } catch (const trellis::run_error&) {
        raised_on_behalf = true;
    }
    EXPECT_TRUE(raised_on_behalf);
    limiter.release_on_behalf_of(&job);
}

TRELLIS_TEST(CapacityLimiter, ABorrowerWaitingForATokenCannotWaitForASecondOne) {
    trellis::capacity_limiter limiter(1);
    int job = 0;
    bool raised = false;
    co_await limiter.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            auto token = co_await limiter.hold_on_behalf_of(&job);
        });
        co_await wait_all_tasks_blocked();
        n.start_soon([&]() -> trellis::task<> {
            try {
                auto token = co_await limiter.hold_on_behalf_of(&job);
            } catch (const trellis::run_error&) {
                raised = true;
            }
        });
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(raised);
        EXPECT_EQ(limiter.statistics().tasks_waiting, 1u);
        limiter.release();
    });
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, ReleaseByATaskThatHoldsNoTokenRaisesRunError) {
    trellis::capacity_limiter limiter(2);
    co_await limiter.acquire();
    bool raised = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                limiter.release();
            } catch (const trellis::run_error&) {
                raised = true;
            }
            co_return;
        });
        co_return;
    });
    EXPECT_TRUE(raised);
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    limiter.release();
}

TRELLIS_TEST(CapacityLimiter, RaisingTheTotalWakesWaitersAtOnce) {
    trellis::capacity_limiter limiter(1);
    int got_token = 0;
    co_await limiter.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event done;
        for (int i = 0; i < 2; ++i)
            n.start_soon([&]() -> trellis::task<> {
                auto token = co_await limiter.hold();
                ++got_token;
                co_await done.wait();
            });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(limiter.statistics().tasks_waiting, 2u);
        limiter.set_total_tokens(3);
        EXPECT_EQ(limiter.borrowed_tokens(), 3u);
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(got_token, 2);
        done.set();
    });
    limiter.release();
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, LoweringTheTotalLetsBorrowersKeepTheirTokens) {
    trellis::capacity_limiter limiter(3);
    int jobs[3] = {};
    for (int& job : jobs) co_await limiter.acquire_on_behalf_of(&job);
    limiter.set_total_tokens(1);
    EXPECT_EQ(limiter.total_tokens(), 1u);
    EXPECT_EQ(limiter.borrowed_tokens(), 3u);
    EXPECT_EQ(limiter.available_tokens(), 0u);
    bool late_got_token = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            auto token = co_await limiter.hold();
            late_got_token = true;
        });
        co_await wait_all_tasks_blocked();
        limiter.release_on_behalf_of(&jobs[0]);
        limiter.release_on_behalf_of(&jobs[1]);
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(late_got_token);  // one borrower left: the total is reached
        limiter.release_on_behalf_of(&jobs[2]);
    });
    EXPECT_TRUE(late_got_token);
}

TRELLIS_TEST(CapacityLimiter, StatisticsNameTheBorrowers) {
    trellis::capacity_limiter limiter(4);
    int job = 0;
    co_await limiter.acquire_on_behalf_of(&job);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event done;
        n.start_soon(trellis::named("worker"), [&]() -> trellis::task<> {
            co_await limiter.acquire();
            co_await done.wait();
            limiter.release();
        });
        n.start_soon(trellis::named("guarded"), [&]() -> trellis::task<> {
            auto token = co_await limiter.hold();
            co_await done.wait();
        });
        co_await wait_all_tasks_blocked();
        auto stats = limiter.statistics();
        EXPECT_EQ(stats.borrowed_tokens, 3u);
        EXPECT_EQ(stats.total_tokens, 4u);
        EXPECT_EQ(stats.tasks_waiting, 0u);
        EXPECT_EQ(stats.borrowers.size(), 3u);
        std::vector<std::string> names;
        for (const auto& [b, label] : stats.borrowers) names.push_back(label);
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names[0], "guarded");
        EXPECT_EQ(names[1].rfind("object@", 0), 0u) << names[1];
        EXPECT_EQ(names[2], "worker");
        EXPECT_EQ(label_of(limiter, &job), names[1]);
        done.set();
    });
    limiter.release_on_behalf_of(&job);
}

TRELLIS_TEST(CapacityLimiter, WaitersAreServedInArrivalOrder) {
    trellis::capacity_limiter limiter(1);
    std::vector<std::string> log;
    co_await limiter.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(
                [&](std::string me) -> trellis::task<> {
                    auto token = co_await limiter.hold();
                    log.push_back(me);
                },
                std::string(name));
            co_await wait_all_tasks_blocked();
        }
        limiter.release();
    });
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third"}));
}

TRELLIS_TEST(CapacityLimiter, AcquireNowaitRaisesWouldBlockWhenNoTokenIsFree) {
    trellis::capacity_limiter limiter(1);
    int job = 0;
    limiter.acquire_nowait();
    EXPECT_THROW(limiter.acquire_on_behalf_of_nowait(&job), trellis::would_block);
    limiter.release();
    limiter.acquire_on_behalf_of_nowait(&job);
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    limiter.release_on_behalf_of(&job);
    co_return;
}

TRELLIS_TEST(CapacityLimiter, CancellationWhileWaitingLeavesNoGhostWaiter) {
    trellis::capacity_limiter limiter(1);
    int job = 0;
    bool cancelled_task_got_it = false;
    co_await limiter.acquire();
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await limiter.acquire_on_behalf_of(&job);
                cancelled_task_got_it = true;
            });
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(limiter.statistics().tasks_waiting, 1u);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(limiter.statistics().tasks_waiting, 0u);
        limiter.release();
    });
    EXPECT_FALSE(cancelled_task_got_it);
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
    // The cancelled borrower is not half-registered: it can borrow again.
    limiter.acquire_on_behalf_of_nowait(&job);
    limiter.release_on_behalf_of(&job);
}

TRELLIS_TEST(CapacityLimiter, HoldGuardReturnsTheTokenAtTheEndOfItsScope) {
    trellis::capacity_limiter limiter(1);
    int job = 0;
    {
        auto token = co_await limiter.hold();
        EXPECT_EQ(limiter.borrowed_tokens(), 1u);
        EXPECT_EQ(limiter.statistics().borrowers.at(0).first, lowlevel::current_task().state());
    }
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
    {
        auto token = co_await limiter.hold_on_behalf_of(&job);
        EXPECT_EQ(limiter.statistics().borrowers.at(0).first, &job);
    }
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TEST(CapacityLimiter, ATotalOfZeroThrows) {
    EXPECT_THROW(trellis::capacity_limiter(0), std::invalid_argument);
    trellis::capacity_limiter limiter(1);
    EXPECT_THROW(limiter.set_total_tokens(0), std::invalid_argument);
    EXPECT_EQ(limiter.total_tokens(), 1u);
}

TRELLIS_TEST(CapacityLimiter, AnUnlimitedTotalLetsEveryBorrowerInAtOnce) {
    trellis::capacity_limiter limiter(trellis::capacity_limiter::unlimited);
    EXPECT_EQ(limiter.total_tokens(), trellis::capacity_limiter::unlimited);
    int holding = 0;
    trellis::event release_all;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 100; ++i)
            n.start_soon([&]() -> trellis::task<> {
                auto token = co_await limiter.hold();
                ++holding;
                co_await release_all.wait();
            });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(holding, 100);
        EXPECT_EQ(limiter.borrowed_tokens(), 100u);
        EXPECT_EQ(limiter.statistics().tasks_waiting, 0u);
        EXPECT_EQ(limiter.statistics().total_tokens, trellis::capacity_limiter::unlimited);
        release_all.set();
    });
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(CapacityLimiter, AnUnlimitedTotalStillRefusesASecondTokenToOneBorrower) {
    trellis::capacity_limiter limiter(trellis::capacity_limiter::unlimited);
    co_await limiter.acquire();
    EXPECT_THROW(limiter.acquire_nowait(), trellis::run_error);
    limiter.release();
}

TRELLIS_TEST(CapacityLimiter, RaisingTheTotalToUnlimitedWakesEveryWaiter) {
    trellis::capacity_limiter limiter(1);
    int job = 0;
    co_await limiter.acquire_on_behalf_of(&job);
    int got_token = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 3; ++i)
            n.start_soon([&]() -> trellis::task<> {
                auto token = co_await limiter.hold();
                ++got_token;
            });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(got_token, 0);
        limiter.set_total_tokens(trellis::capacity_limiter::unlimited);
    });
    EXPECT_EQ(got_token, 3);
    limiter.release_on_behalf_of(&job);
}

TRELLIS_TEST(CapacityLimiter, AnUnlimitedTotalLoweredToAFiniteOneMakesNewBorrowersWait) {
    trellis::capacity_limiter limiter(trellis::capacity_limiter::unlimited);
    int jobs[2] = {};
    for (int& job : jobs) co_await limiter.acquire_on_behalf_of(&job);
    limiter.set_total_tokens(2);
    EXPECT_EQ(limiter.available_tokens(), 0u);
    EXPECT_THROW(limiter.acquire_nowait(), trellis::would_block);
    limiter.release_on_behalf_of(&jobs[0]);
    limiter.acquire_nowait();
    limiter.release();
    limiter.release_on_behalf_of(&jobs[1]);
}

// trellis::token: reaching a run from other threads with run_sync_soon.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using trellis::testing::wait_all_tasks_blocked;

TRELLIS_TEST(Token, RunSyncSoonFromAnotherThreadRunsOnTheRunThread) {
    const auto run_thread = std::this_thread::get_id();
    std::thread::id callback_thread;
    trellis::event done;
    auto token = trellis::current_token();
    std::thread poster([&] {
        token.run_sync_soon([&] {
            callback_thread = std::this_thread::get_id();
            done.set();
        });
    });
    co_await done.wait();
    poster.join();
    EXPECT_EQ(callback_thread, run_thread);
}

TRELLIS_TEST(Token, CallbacksRunInPostingOrder) {
    std::vector<int> order;
    trellis::event done;
    auto token = trellis::current_token();
    std::thread poster([&] {
        for (int i = 0; i < 200; ++i) token.run_sync_soon([&order, i] { order.push_back(i); });
        token.run_sync_soon([&] { done.set(); });
    });
    co_await done.wait();
    poster.join();
    std::vector<int> expected;
    for (int i = 0; i < 200; ++i) expected.push_back(i);
    EXPECT_EQ(order, expected);
}

TRELLIS_TEST(Token, ConcurrentPostersKeepTheirOwnOrder) {
    constexpr int threads = 4;
    constexpr int per_thread = 500;
    std::vector<std::vector<int>> seen(threads);
    int finished_threads = 0;
    trellis::event done;
    auto token = trellis::current_token();
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
        posters.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                token.run_sync_soon([&seen, t, i] { seen[static_cast<std::size_t>(t)].push_back(i); });
            token.run_sync_soon([&] {
                if (++finished_threads == threads) done.set();
            });
        });
    co_await done.wait();
    for (auto& p : posters) p.join();
    std::vector<int> expected;
    for (int i = 0; i < per_thread; ++i) expected.push_back(i);
    for (const auto& s : seen) EXPECT_EQ(s, expected);
}

TRELLIS_TEST(Token, RunSyncSoonFromTheRunThreadRunsOutsideAnyTask) {
    std::string error;
    trellis::event done;
    trellis::current_token().run_sync_soon([&] {
        try {
            trellis::lowlevel::current_task();
        } catch (const trellis::run_error& e) {
            error = e.what();
        }
        done.set();
    });
    co_await done.wait();
    EXPECT_NE(error.find("outside a trellis task"), std::string::npos) << error;
}

TRELLIS_TEST(Token, ACallbackCanStartATaskInANurseryItHolds) {
    bool child_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event spawned;
        auto token = trellis::current_token();
        std::thread poster([&] {
            token.run_sync_soon([&] {
                n.start_soon([&]() -> trellis::task<> {
                    co_await trellis::checkpoint();
                    child_ran = true;
                });
                spawned.set();
            });
        });
        co_await spawned.wait();  // keeps the nursery open until then
        poster.join();
    });
    EXPECT_TRUE(child_ran);
}

TRELLIS_TEST(Token, ACallbackCanCancelAScope) {
    trellis::cancel_scope scope;
    auto token = trellis::current_token();
    std::thread poster;
    co_await scope.run([&]() -> trellis::task<> {
        poster = std::thread([&] { token.run_sync_soon([&] { scope.cancel(); }); });
        co_await trellis::sleep_forever();
    });
    poster.join();
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(Token, ACallbackCanRescheduleABlockedTask) {
    trellis::lowlevel::task_handle me = trellis::lowlevel::current_task();
    auto token = trellis::current_token();
    std::thread poster([&] { token.run_sync_soon([&] { trellis::lowlevel::reschedule(me); }); });
    co_await trellis::lowlevel::wait_task_rescheduled(
        [](const std::exception_ptr&) { return trellis::lowlevel::abort_result::failed; });
    poster.join();
}

TRELLIS_TEST(Token, TokensOfTheSameRunAreEqual) {
    EXPECT_EQ(trellis::current_token(), trellis::current_token());
    trellis::token copy = trellis::current_token();
    co_await trellis::checkpoint();
    EXPECT_EQ(copy, trellis::current_token());
}

TEST(Token, TokensOfDifferentRunsDiffer) {
    auto first = trellis::run([]() -> trellis::task<trellis::token> { co_return trellis::current_token(); });
    auto second = trellis::run([]() -> trellis::task<trellis::token> { co_return trellis::current_token(); });
    EXPECT_NE(first, second);
}

TEST(Token, RunSyncSoonAfterTheRunHasFinishedRaisesRunError) {
    auto token = trellis::run([]() -> trellis::task<trellis::token> { co_return trellis::current_token(); });
    std::string message;
    try {
        token.run_sync_soon([] {});
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("has finished"), std::string::npos) << message;
}

TEST(Token, RunSyncSoonFromAnotherThreadAfterTheRunRaisesRunError) {
    auto token = trellis::run([]() -> trellis::task<trellis::token> { co_return trellis::current_token(); });
    bool raised = false;
    std::thread other([&] {
        try {
            token.run_sync_soon([] {});
        } catch (const trellis::run_error&) {
            raised = true;
        }
    });
    other.join();
    EXPECT_TRUE(raised);
}

TEST(Token, CallbacksPostedBeforeTheRunEndsStillRun) {
    bool ran = false;
    trellis::run([&]() -> trellis::task<> {
        trellis::current_token().run_sync_soon([&] { ran = true; });
        co_return;
    });
    EXPECT_TRUE(ran);
}

TEST(Token, RunSyncSoonWithAnEmptyFunctionRaisesRunError) {
    trellis::run([]() -> trellis::task<> {
        EXPECT_THROW(trellis::current_token().run_sync_soon(std::function<void()>{}), trellis::run_error);
        co_return;
    });
}

// The original error of an internal_error, rethrown and described.
static std::string nested_description(const trellis::internal_error& e) {
    try {
        e.rethrow_nested();
    } catch (...) {
        return trellis::describe(std::current_exception());
    }
    return "";
}

TEST(Token, ACallbackThatThrowsEndsTheRunWithAnInternalErrorHoldingItAndCancelsTheMainTask) {
    bool main_cancelled = false;
    std::string nested;
    try {
        trellis::run([&]() -> trellis::task<> {
            auto token = trellis::current_token();
            std::thread poster([token] { token.run_sync_soon([] { throw std::runtime_error("boom"); }); });
            poster.join();
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
                main_cancelled = true;
                throw;
            }
        });
    } catch (const trellis::internal_error& e) {
        nested = nested_description(e);
        EXPECT_NE(std::string(e.what()).find("run_sync_soon callback"), std::string::npos) << e.what();
    }
    EXPECT_NE(nested.find("boom"), std::string::npos) << nested;
    EXPECT_TRUE(main_cancelled);
}

TEST(Token, ACallbackThatThrowsAfterMainFinishedStillFailsTheRun) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     trellis::current_token().run_sync_soon([] { throw std::runtime_error("late"); });
                     co_return;
                 }),
                 trellis::internal_error);
}

TEST(Token, ACallbackThatThrowsOverridesTheMainValue) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<int> {
                     trellis::current_token().run_sync_soon([] { throw std::runtime_error("boom"); });
                     co_await trellis::checkpoint();
                     co_return 7;
                 }),
                 trellis::internal_error);
}

// finally() and closing(): async cleanup that survives errors and
// cancellation.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct body_error : std::runtime_error {
    body_error() : std::runtime_error("body failed") {}
};
struct cleanup_error : std::runtime_error {
    cleanup_error() : std::runtime_error("cleanup failed") {}
};

// A resource with an async close that takes time (a checkpoint).
struct slow_resource {
    std::vector<std::string>* log;
    trellis::task<> aclose() {
        co_await trellis::sleep(1s);
        log->push_back("closed");
    }
};

}  // namespace

TRELLIS_TEST(Finally, CleanupRunsAfterASuccessfulBodyAndTheValueIsReturned) {
    std::vector<std::string> log;
    int v = co_await trellis::finally(
        [&]() -> trellis::task<int> {
            co_await trellis::checkpoint();
            log.push_back("body");
            co_return 5;
        },
        [&]() -> trellis::task<> {
            co_await trellis::checkpoint();
            log.push_back("cleanup");
        });
    EXPECT_EQ(v, 5);
    EXPECT_EQ(log, (std::vector<std::string>{"body", "cleanup"}));
}

TRELLIS_TEST(Finally, AfterAnErrorTheCleanupRunsAndTheErrorIsRethrown) {
    std::vector<std::string> log;
    bool caught = false;
    try {
        co_await trellis::finally(
            [&]() -> trellis::task<> {
                co_await trellis::checkpoint();
                throw body_error();
            },
            [&]() -> trellis::task<> {
                co_await trellis::checkpoint();
                log.push_back("cleanup");
            });
    } catch (const body_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(log, std::vector<std::string>{"cleanup"});
}

TRELLIS_TEST_MOCK_CLOCK(Finally, AfterAnErrorInACancelledScopeTheCleanupRunsShielded, clock) {
    std::vector<std::string> log;
    bool caught = false;
    trellis::cancel_scope scope;
    try {
        co_await scope.run([&]() -> trellis::task<> {
            co_await trellis::finally(
                [&]() -> trellis::task<> {
                    scope.cancel();
                    throw body_error();
                    co_return;
                },
                [&]() -> trellis::task<> {
                    co_await trellis::sleep(1s);  // would raise if not shielded
                    co_await trellis::checkpoint();
                    log.push_back("cleanup finished");
                });
        });
    } catch (const body_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(log, std::vector<std::string>{"cleanup finished"});
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 1s);
}

TRELLIS_TEST_MOCK_CLOCK(Finally, AfterACancellationTheCleanupRunsShieldedAndTheScopeCatches, clock) {
    std::vector<std::string> log;
    trellis::cancel_scope scope(trellis::time_point{} + 2s);
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::finally(
            [&]() -> trellis::task<> {
                co_await trellis::sleep_forever();  // cut short by the deadline
            },
            [&]() -> trellis::task<> {
                co_await trellis::sleep(1s);
                log.push_back("cleanup finished");
            });
        log.push_back("after finally");
    });
    EXPECT_EQ(log, std::vector<std::string>{"cleanup finished"});
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 3s);
}

TRELLIS_TEST(Finally, AnErrorFromTheCleanupWins) {
    bool caught = false;
    try {
        co_await trellis::finally([]() -> trellis::task<> { throw body_error(); co_return; },
                                  []() -> trellis::task<> {
                                      co_await trellis::checkpoint();
                                      throw cleanup_error();
                                  });
    } catch (const cleanup_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
}

TRELLIS_TEST(Finally, TheCleanupAfterSuccessIsNotShielded) {
    // After a successful body the cleanup runs as ordinary code: a
    // cancelled scope cancels it.
    trellis::cancel_scope scope;
    bool cleanup_finished = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::finally([&]() -> trellis::task<> {
            scope.cancel();
            co_return;
        },
                                  [&]() -> trellis::task<> {
                                      co_await trellis::checkpoint();
                                      cleanup_finished = true;
                                  });
    });
    EXPECT_FALSE(cleanup_finished);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(Closing, ClosingCallsAcloseAfterTheBody, clock) {
    std::vector<std::string> log;
    slow_resource r{&log};
    int v = co_await trellis::closing(r, [&](slow_resource& res) -> trellis::task<int> {
        EXPECT_EQ(&res, &r);
        log.push_back("used");
        co_return 3;
    });
    EXPECT_EQ(v, 3);
    EXPECT_EQ(log, (std::vector<std::string>{"used", "closed"}));
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 1s);
}

TRELLIS_TEST_MOCK_CLOCK(Closing, ClosingCallsAcloseShieldedAfterACancellation, clock) {
    std::vector<std::string> log;
    slow_resource r{&log};
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::closing(r, [&](slow_resource&) -> trellis::task<> {
            scope.cancel();
            co_await trellis::checkpoint();
            log.push_back("not reached");
        });
    });
    EXPECT_EQ(log, std::vector<std::string>{"closed"});
    EXPECT_TRUE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Closing, ClosingRethrowsTheBodysErrorAfterClosing, clock) {
    std::vector<std::string> log;
    slow_resource r{&log};
    EXPECT_THROW(co_await trellis::closing(r,
                                           [](slow_resource&) -> trellis::task<> {
                                               co_await trellis::checkpoint();
                                               throw body_error();
                                           }),
                 body_error);
    EXPECT_EQ(log, std::vector<std::string>{"closed"});
    (void)clock;
}

TRELLIS_TEST(Finally, CleanupRunsEvenWhenTheBodyFailsBeforeMakingItsTask) {
    // A plain function returning a task can throw before any coroutine
    // exists; that is still an error of the body.
    std::vector<std::string> log;
    bool caught = false;
    try {
        co_await trellis::finally(
            []() -> trellis::task<> { throw body_error(); },
            [&]() -> trellis::task<> {
                co_await trellis::checkpoint();
                log.push_back("cleanup");
            });
    } catch (const body_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(log, std::vector<std::string>{"cleanup"});
}

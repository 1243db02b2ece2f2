// trellis::run: values, errors, arguments and options of a whole run.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using trellis::time_point;

namespace {

struct custom_error : std::runtime_error {
    explicit custom_error(int c) : std::runtime_error("custom"), code(c) {}
    int code;
};

trellis::task<int> add(int a, int b) {
    co_await trellis::checkpoint();
    co_return a + b;
}

trellis::task<std::string> repeat(std::string s, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) {
        co_await trellis::checkpoint();
        out += s;
    }
    co_return out;
}

// A clock that counts its start and stop calls and otherwise stands still.
class counting_clock : public trellis::clock {
public:
    int starts = 0;
    int stops = 0;
    void start_clock() override { ++starts; }
    void stop_clock() override { ++stops; }
    time_point current_time() override { return time_point{} + 42s; }
    trellis::duration deadline_to_sleep_time(time_point deadline) override {
        return deadline <= current_time() ? trellis::duration::zero() : trellis::duration::max();
    }
};

}  // namespace

TEST(Run, ReturnsTheMainTasksValue) {
    EXPECT_EQ(trellis::run([]() -> trellis::task<int> {
                  co_await trellis::checkpoint();
                  co_return 42;
              }),
              42);
}

TEST(Run, ReturnsForAVoidMainTask) {
    bool ran = false;
    trellis::run([&]() -> trellis::task<> {
        co_await trellis::checkpoint();
        ran = true;
    });
    EXPECT_TRUE(ran);
}

TEST(Run, RethrowsTheMainTasksErrorAsItself) {
    int code = 0;
    try {
        trellis::run([]() -> trellis::task<> {
            co_await trellis::checkpoint();
            throw custom_error(7);
        });
    } catch (const custom_error& e) {
        code = e.code;
    }
    EXPECT_EQ(code, 7);
}

TEST(Run, RethrowsAnErrorFromAChildNursery) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                         n.start_soon([]() -> trellis::task<> {
                             co_await trellis::checkpoint();
                             throw custom_error(1);
                         });
                         co_await trellis::sleep_forever();
                     });
                 }),
                 custom_error);
}

TEST(Run, ReturnsAMoveOnlyValue) {
    std::unique_ptr<int> p = trellis::run([]() -> trellis::task<std::unique_ptr<int>> {
        co_await trellis::checkpoint();
        co_return std::make_unique<int>(5);
    });
    EXPECT_NE(p, nullptr);
    if (p) {
        EXPECT_EQ(*p, 5);
    }
}

TEST(Run, PassesArgumentsToTheMainFunction) {
    EXPECT_EQ(trellis::run(add, 2, 3), 5);
    EXPECT_EQ(trellis::run(repeat, std::string("ab"), 3), "ababab");
}

TEST(Run, TakesAMoveOnlyArgument) {
    const int value = trellis::run(
        [](std::unique_ptr<int> p) -> trellis::task<int> {
            co_await trellis::checkpoint();
            co_return *p;
        },
        std::make_unique<int>(9));
    EXPECT_EQ(value, 9);
}

TEST(Run, TheCallablesCapturesLiveUntilTheMainTaskFinishes) {
    std::string captured(100, 'x');  // long enough to live on the heap
    const auto length = trellis::run([captured]() -> trellis::task<std::size_t> {
        co_await trellis::sleep(1ms);
        co_return captured.size();
    });
    EXPECT_EQ(length, 100u);
}

TEST(Run, UsesTheClockGivenInTheOptions) {
    auto clock = std::make_shared<trellis::testing::mock_clock>();
    clock->jump(1h);
    trellis::run_options options;
    options.clock = clock;
    const time_point seen = trellis::run(options, []() -> trellis::task<time_point> {
        co_await trellis::checkpoint();
        co_return trellis::current_time();
    });
    EXPECT_EQ(seen, time_point{} + 1h);
}

TEST(Run, StartsAndStopsTheClockOnce) {
    auto clock = std::make_shared<counting_clock>();
    trellis::run_options options;
    options.clock = clock;
    const time_point seen = trellis::run(options, []() -> trellis::task<time_point> {
        co_await trellis::sleep(0s);
        co_return trellis::current_time();
    });
    EXPECT_EQ(seen, time_point{} + 42s);
    EXPECT_EQ(clock->starts, 1);
    EXPECT_EQ(clock->stops, 1);
}

TEST(Run, StopsTheClockWhenTheMainTaskFails) {
    auto clock = std::make_shared<counting_clock>();
    trellis::run_options options;
    options.clock = clock;
    EXPECT_THROW(trellis::run(options, []() -> trellis::task<> {
                     co_await trellis::checkpoint();
                     throw custom_error(2);
                 }),
                 custom_error);
    EXPECT_EQ(clock->stops, 1);
}

TEST(Run, DefaultClockIsTheSteadyClock) {
    const auto before = std::chrono::steady_clock::now();
    const time_point seen = trellis::run([]() -> trellis::task<time_point> { co_return trellis::current_time(); });
    const auto after = std::chrono::steady_clock::now();
    EXPECT_GE(seen, std::chrono::time_point_cast<trellis::duration>(before));
    EXPECT_LE(seen, std::chrono::time_point_cast<trellis::duration>(after));
}

TEST(Run, StrictExceptionGroupsWrapEvenASingleError) {
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool grouped = false;
    try {
        trellis::run(options, []() -> trellis::task<> {
            co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                n.start_soon([]() -> trellis::task<> {
                    co_await trellis::checkpoint();
                    throw custom_error(3);
                });
                co_return;
            });
        });
    } catch (const trellis::exception_group& g) {
        grouped = g.size() == 1 && g.contains<custom_error>();
    } catch (const custom_error&) {
    }
    EXPECT_TRUE(grouped);
}

TEST(Run, CanRunAgainOnTheSameThreadAfterwards) {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(trellis::run(add, i, 1), i + 1);
}

TEST(Run, AFailedRunLeavesTheThreadReadyForANewOne) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     throw custom_error(4);
                     co_return;
                 }),
                 custom_error);
    EXPECT_EQ(trellis::run(add, 1, 1), 2);
}

TEST(Run, RunsOnSeveralThreadsAtOnce) {
    std::vector<int> results(4, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&results, i] {
            results[static_cast<std::size_t>(i)] = trellis::run([i]() -> trellis::task<int> {
                int sum = 0;
                for (int k = 0; k < 100; ++k) {
                    co_await trellis::checkpoint();
                    sum += i;
                }
                co_return sum;
            });
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(results, (std::vector<int>{0, 100, 200, 300}));
}

namespace {
// A clock that fails once asked for the time after `allowed` reads.
class failing_clock final : public trellis::clock {
public:
    explicit failing_clock(int allowed) : allowed_(allowed) {}
    trellis::time_point current_time() override {
        if (allowed_-- <= 0) throw std::runtime_error("clock hardware gone");
        return trellis::time_point{};
    }
    trellis::duration deadline_to_sleep_time(trellis::time_point) override { return trellis::duration::zero(); }

private:
    int allowed_;
};
}  // namespace

TEST(Run, WhenTheSchedulerItselfFailsRunRaisesAnInternalErrorHoldingTheCause) {
    trellis::run_options options;
    options.clock = std::make_shared<failing_clock>(1);
    std::string nested;
    try {
        trellis::run(options, []() -> trellis::task<> {
            // The sleep reads the clock once; firing its deadline reads it again.
            co_await trellis::sleep(std::chrono::seconds(1));
            co_await trellis::sleep_forever();
        });
    } catch (const trellis::internal_error& e) {
        try {
            std::rethrow_if_nested(e);
        } catch (const std::runtime_error& cause) {
            nested = cause.what();
        }
    }
    EXPECT_EQ(nested, "clock hardware gone");
}

// lowlevel::run_var<T>: one value per run.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <string>
#include <thread>
#include <utility>

namespace lowlevel = trellis::lowlevel;

namespace {
// Outside any run, as a run_var is meant to be (a global).
lowlevel::run_var<int> counter(0);
lowlevel::run_var<std::string> no_default;
}  // namespace

TRELLIS_TEST(RunVar, GetReturnsTheDefaultWhenNothingWasSet) {
    EXPECT_EQ(counter.get(), 0);
    co_return;
}

TRELLIS_TEST(RunVar, SetValueIsSeenByGetInTheSameRun) {
    counter.set(41);
    co_await trellis::checkpoint();
    EXPECT_EQ(counter.get(), 41);
    counter.set(counter.get() + 1);
    EXPECT_EQ(counter.get(), 42);
}

TRELLIS_TEST(RunVar, ValueIsSharedByEveryTaskOfTheRun) {
    co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([]() -> trellis::task<> {
            counter.set(7);
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(counter.get(), 7);
}

TEST(RunVar, ANewRunSeesTheDefaultAgain) {
    trellis::run([]() -> trellis::task<> {
        counter.set(5);
        co_return;
    });
    const int seen = trellis::run([]() -> trellis::task<int> { co_return counter.get(); });
    EXPECT_EQ(seen, 0);
}

TRELLIS_TEST(RunVar, ResetBringsBackTheDefault) {
    counter.set(3);
    counter.reset();
    EXPECT_EQ(counter.get(), 0);
    co_return;
}

TRELLIS_TEST(RunVar, GetWithNoDefaultAndNoValueRaisesRunError) {
    EXPECT_THROW(no_default.get(), trellis::run_error);
    no_default.set("x");
    EXPECT_EQ(no_default.get(), "x");
    co_return;
}

TRELLIS_TEST(RunVar, TwoRunVarsAreIndependent) {
    lowlevel::run_var<int> a(1);
    lowlevel::run_var<int> b(2);
    a.set(10);
    EXPECT_EQ(a.get(), 10);
    EXPECT_EQ(b.get(), 2);
    co_return;
}

TEST(RunVar, RunsOnTwoThreadsAtOnceHaveTheirOwnValues) {
    int seen_a = -1;
    int seen_b = -1;
    auto body = [](int mine, int* seen) {
        trellis::run([mine, seen]() -> trellis::task<> {
            counter.set(mine);
            for (int i = 0; i < 50; ++i) co_await trellis::checkpoint();
            *seen = counter.get();
        });
    };
    std::thread a(body, 1, &seen_a);
    std::thread b(body, 2, &seen_b);
    a.join();
    b.join();
    EXPECT_EQ(seen_a, 1);
    EXPECT_EQ(seen_b, 2);
}

TEST(RunVar, GetOutsideARunRaisesRunError) {
    std::string message;
    try {
        counter.get();
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("outside a trellis run"), std::string::npos) << message;
}

TEST(RunVar, SetOutsideARunRaisesRunError) {
    EXPECT_THROW(counter.set(1), trellis::run_error);
    EXPECT_THROW(counter.reset(), trellis::run_error);
}

TRELLIS_TEST(RunVar, GetWithADefaultArgumentReturnsItWhenNothingWasSet) {
    EXPECT_EQ(no_default.get("fallback"), "fallback");
    auto tok = no_default.set("set");
    EXPECT_EQ(no_default.get("fallback"), "set");
    no_default.reset(tok);
    co_return;
}

TRELLIS_TEST(RunVar, ResetWithATokenRestoresTheValueBeforeThatSet) {
    auto first = counter.set(1);
    auto second = counter.set(2);
    EXPECT_EQ(counter.get(), 2);
    counter.reset(second);
    EXPECT_EQ(counter.get(), 1);
    counter.reset(first);
    EXPECT_EQ(counter.get(), 0);  // no value again: the default
    co_return;
}

TRELLIS_TEST(RunVar, ATokenCanBeUsedOnceAndOnlyWithItsOwnRunVar) {
    lowlevel::run_var<int> other(0);
    auto tok = counter.set(4);
    EXPECT_THROW(other.reset(tok), trellis::run_error);
    counter.reset(tok);
    EXPECT_THROW(counter.reset(tok), trellis::run_error);
    co_return;
}

namespace {
// The message of the run_error fn() throws, or "" if it throws none.
template <class F>
std::string run_error_message(F fn) {
    try {
        fn();
    } catch (const trellis::run_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TRELLIS_TEST(RunVar, ResetWithATokenRestoresThePreviousValueOnceOnly) {
    auto first = counter.set(1);
    auto second = counter.set(2);
    counter.reset(second);
    EXPECT_EQ(counter.get(), 1);
    EXPECT_EQ(run_error_message([&] { counter.reset(second); }), "run_var::reset: the token was used already");
    counter.reset(first);
    EXPECT_EQ(counter.get(), 0);
    co_return;
}

TRELLIS_TEST(RunVar, ResetWithAnotherRunVarsTokenRaisesRunErrorAndChangesNothing) {
    lowlevel::run_var<int> other(0);
    auto foreign = other.set(5);
    counter.set(3);
    EXPECT_EQ(run_error_message([&] { counter.reset(foreign); }),
              "run_var::reset: the token was made by another run_var");
    EXPECT_EQ(counter.get(), 3);
    other.reset(foreign);  // still usable by its own run_var
    EXPECT_EQ(other.get(), 0);
    co_return;
}

TRELLIS_TEST(RunVar, AMovedFromTokenCountsAsUsed) {
    auto token = counter.set(1);
    auto moved = std::move(token);
    EXPECT_EQ(run_error_message([&] { counter.reset(token); }), "run_var::reset: the token was used already");
    counter.reset(moved);
    EXPECT_EQ(counter.get(), 0);
    co_return;
}

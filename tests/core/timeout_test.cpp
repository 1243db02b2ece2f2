// Timeouts: move_on_after/at and fail_after/at.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

constexpr trellis::time_point t0{};

struct body_error : std::runtime_error {
    body_error() : std::runtime_error("the body failed") {}
};

trellis::task<> sleep_for(trellis::duration d) { co_await trellis::sleep(d); }

trellis::task<int> value_after(trellis::duration d, int v) {
    co_await trellis::sleep(d);
    co_return v;
}

}  // namespace

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAfterReturnsTrueWhenTheBodyFinishesInTime, clock) {
    bool finished = co_await trellis::move_on_after(5s, sleep_for, trellis::duration(2s));
    EXPECT_TRUE(finished);
    EXPECT_EQ(clock.current_time(), t0 + 2s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAfterReturnsFalseWhenTheDeadlineCutsTheBodyShort, clock) {
    bool reached_end = false;
    bool finished = co_await trellis::move_on_after(5s, [&]() -> trellis::task<> {
        co_await trellis::sleep(1h);
        reached_end = true;
    });
    EXPECT_FALSE(finished);
    EXPECT_FALSE(reached_end);
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAfterMeasuresFromWhenItIsAwaitedNotWhenItIsCalled, clock) {
    auto timeout = trellis::move_on_after(5s, sleep_for, trellis::duration(1h));
    co_await trellis::sleep(10s);
    bool finished = co_await std::move(timeout);
    EXPECT_FALSE(finished);
    EXPECT_EQ(clock.current_time(), t0 + 15s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, AnUnboundedTimeoutNeverFires, clock) {
    bool finished = co_await trellis::move_on_after(trellis::duration::max(), sleep_for, trellis::duration(1h));
    EXPECT_TRUE(finished);
    EXPECT_EQ(clock.current_time(), t0 + 1h);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnlyValuesPassThroughTimeouts, clock) {
    auto make = []() -> trellis::task<std::unique_ptr<int>> {
        co_await trellis::sleep(1s);
        co_return std::make_unique<int>(4);
    };
    std::optional<std::unique_ptr<int>> a = co_await trellis::move_on_after(5s, make);
    EXPECT_TRUE(a.has_value() && *a && **a == 4);
    std::unique_ptr<int> b = co_await trellis::fail_after(5s, make);
    EXPECT_TRUE(b && *b == 4);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAtUsesAnAbsoluteDeadline, clock) {
    co_await trellis::sleep(2s);
    bool finished = co_await trellis::move_on_at(t0 + 7s, sleep_for, trellis::duration(1h));
    EXPECT_FALSE(finished);
    EXPECT_EQ(clock.current_time(), t0 + 7s);

    bool finished_in_time = co_await trellis::move_on_at(t0 + 20s, sleep_for, trellis::duration(1s));
    EXPECT_TRUE(finished_in_time);
    EXPECT_EQ(clock.current_time(), t0 + 8s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAtWithAPastDeadlineCancelsAtTheFirstCheckpoint, clock) {
    co_await trellis::sleep(3s);
    bool reached = false;
    bool finished = co_await trellis::move_on_at(t0 + 1s, [&]() -> trellis::task<> {
        co_await trellis::checkpoint();
        reached = true;
    });
    EXPECT_FALSE(finished);
    EXPECT_FALSE(reached);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAfterWithAValueBodyReturnsTheValue, clock) {
    std::optional<int> v = co_await trellis::move_on_after(5s, value_after, trellis::duration(1s), 9);
    EXPECT_EQ(v, std::optional<int>(9));
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAfterWithAValueBodyReturnsNulloptWhenCutShort, clock) {
    std::optional<int> v = co_await trellis::move_on_after(5s, value_after, trellis::duration(10s), 9);
    EXPECT_FALSE(v.has_value());
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, MoveOnAtWithAValueBodyReturnsAnOptional, clock) {
    std::optional<std::string> done = co_await trellis::move_on_at(t0 + 5s, []() -> trellis::task<std::string> {
        co_await trellis::sleep(1s);
        co_return std::string("done");
    });
    EXPECT_EQ(done, std::optional<std::string>("done"));
    std::optional<std::string> late = co_await trellis::move_on_at(t0 + 5s, []() -> trellis::task<std::string> {
        co_await trellis::sleep(1h);
        co_return std::string("late");
    });
    EXPECT_FALSE(late.has_value());
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, FailAfterReturnsTheValueWhenTheBodyFinishesInTime, clock) {
    int v = co_await trellis::fail_after(5s, value_after, trellis::duration(4s), 11);
    EXPECT_EQ(v, 11);
    EXPECT_EQ(clock.current_time(), t0 + 4s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, FailAfterRaisesTooSlowErrorWhenTheDeadlineCutsTheBodyShort, clock) {
    bool caught = false;
    try {
        co_await trellis::fail_after(5s, value_after, trellis::duration(1h), 11);
    } catch (const trellis::too_slow_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, FailAfterWithAVoidBodyRaisesTooSlowErrorOnlyWhenTooSlow, clock) {
    co_await trellis::fail_after(5s, sleep_for, trellis::duration(1s));
    EXPECT_EQ(clock.current_time(), t0 + 1s);
    EXPECT_THROW(co_await trellis::fail_after(5s, sleep_for, trellis::duration(1h)), trellis::too_slow_error);
    EXPECT_EQ(clock.current_time(), t0 + 6s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, FailAtUsesAnAbsoluteDeadline, clock) {
    int v = co_await trellis::fail_at(t0 + 5s, value_after, trellis::duration(2s), 3);
    EXPECT_EQ(v, 3);
    EXPECT_THROW(co_await trellis::fail_at(t0 + 5s, value_after, trellis::duration(1h), 3), trellis::too_slow_error);
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, ErrorsFromTheBodyPropagateUnchangedThroughMoveOnAfter, clock) {
    EXPECT_THROW(co_await trellis::move_on_after(5s,
                                                 []() -> trellis::task<> {
                                                     co_await trellis::sleep(1s);
                                                     throw body_error();
                                                 }),
                 body_error);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, ErrorsFromTheBodyPropagateUnchangedThroughFailAfter, clock) {
    EXPECT_THROW(co_await trellis::fail_after(5s,
                                              []() -> trellis::task<int> {
                                                  co_await trellis::sleep(1s);
                                                  throw body_error();
                                              }),
                 body_error);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, AnErrorRaisedWhileCancelledStillPropagatesUnchanged, clock) {
    // The deadline cancels the body, which turns the cancellation into
    // another error: the error wins, not too_slow_error.
    EXPECT_THROW(co_await trellis::fail_after(5s,
                                              []() -> trellis::task<> {
                                                  try {
                                                      co_await trellis::sleep(1h);
                                                  } catch (const trellis::cancelled&) {
                                                  }
                                                  throw body_error();
                                              }),
                 body_error);
    EXPECT_EQ(clock.current_time(), t0 + 5s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, AnOuterCancellationIsNotMistakenForTheTimeout, clock) {
    // fail_after inside an outer scope that is cancelled: the outer scope
    // catches the cancellation; no too_slow_error is raised.
    trellis::cancel_scope outer(t0 + 2s);
    bool after = false;
    co_await outer.run([&]() -> trellis::task<> {
        co_await trellis::fail_after(10s, sleep_for, trellis::duration(1h));
        after = true;
    });
    EXPECT_FALSE(after);
    EXPECT_TRUE(outer.cancelled_caught());
    EXPECT_EQ(clock.current_time(), t0 + 2s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, NestedTimeoutsFireInDeadlineOrder, clock) {
    bool inner_finished = true;
    bool outer_finished = co_await trellis::move_on_after(10s, [&]() -> trellis::task<> {
        inner_finished = co_await trellis::move_on_after(3s, sleep_for, trellis::duration(1h));
        co_await trellis::sleep(1h);
    });
    EXPECT_FALSE(inner_finished);
    EXPECT_FALSE(outer_finished);
    EXPECT_EQ(clock.current_time(), t0 + 10s);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, NegativeTimeoutsRaiseInvalidArgumentNamingTheCall, clock) {
    std::string move_on, fail;
    try {
        co_await trellis::move_on_after(-1s, sleep_for, 1s);
    } catch (const std::invalid_argument& e) {
        move_on = e.what();
    }
    try {
        co_await trellis::fail_after(-1ms, value_after, 1s, 1);
    } catch (const std::invalid_argument& e) {
        fail = e.what();
    }
    EXPECT_NE(move_on.find("move_on_after"), std::string::npos) << move_on;
    EXPECT_NE(fail.find("fail_after"), std::string::npos) << fail;
    EXPECT_EQ(clock.current_time(), t0);
}

TRELLIS_TEST_MOCK_CLOCK(Timeout, AZeroTimeoutIsAllowedAndCancelsAtTheFirstCheckpoint, clock) {
    EXPECT_FALSE(co_await trellis::move_on_after(0s, sleep_for, 1s));
    (void)clock;
}

// trellis::testing::sequencer.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/sequencer.hpp>

#include <string>
#include <vector>

using trellis::testing::sequencer;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// Takes step `position` and logs `name` during it.
trellis::task<> take_step(sequencer& seq, std::vector<std::string>& log, std::size_t position, std::string name) {
    auto turn = co_await seq(position);
    log.push_back(name);
    co_await trellis::checkpoint();  // a step may block; the next one still waits
    log.push_back(name + " done");
}

}  // namespace

TRELLIS_TEST(Sequencer, StepsRunInOrderWhateverOrderTheirTasksStartIn) {
    sequencer seq;
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(take_step, std::ref(seq), std::ref(log), 2, std::string("c"));
        n.start_soon(take_step, std::ref(seq), std::ref(log), 1, std::string("b"));
        n.start_soon(take_step, std::ref(seq), std::ref(log), 0, std::string("a"));
        co_return;
    });
    EXPECT_EQ(log, (std::vector<std::string>{"a", "a done", "b", "b done", "c", "c done"}));
}

TRELLIS_TEST(Sequencer, AStepWaitsUntilThePreviousTurnEnds) {
    sequencer seq;
    bool second_began = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        auto first = co_await seq(0);
        n.start_soon([&]() -> trellis::task<> {
            auto turn = co_await seq(1);
            second_began = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(second_began);
        first.end();
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(second_began);
    });
}

TRELLIS_TEST(Sequencer, ATurnMovedElsewhereEndsOnlyOnce) {
    sequencer seq;
    auto a = co_await seq(0);
    auto b = std::move(a);
    a.end();  // moved from: does nothing
    b.end();
    auto next = co_await seq(1);  // step 0 ended: does not wait
    EXPECT_TRUE(true);
}

TRELLIS_TEST(Sequencer, UsingAStepNumberTwiceRaisesRunError) {
    sequencer seq;
    {
        auto turn = co_await seq(0);
    }
    EXPECT_THROW((void)co_await seq(0), trellis::run_error);
}

TRELLIS_TEST(Sequencer, CancellingAWaitingStepRaisesRunErrorAndBreaksTheSequence) {
    sequencer seq;
    trellis::cancel_scope scope;
    bool cancelled_step_raised_run_error = false;
    bool other_step_raised_run_error = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                auto turn = co_await seq(1);
            } catch (const trellis::run_error&) {
                other_step_raised_run_error = true;
            }
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                try {
                    auto turn = co_await seq(2);
                } catch (const trellis::run_error&) {
                    cancelled_step_raised_run_error = true;
                }
            });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
    });
    EXPECT_TRUE(cancelled_step_raised_run_error);
    EXPECT_TRUE(other_step_raised_run_error);
    // Later steps, even step 0, find the sequence broken.
    EXPECT_THROW((void)co_await seq(0), trellis::run_error);
}

TRELLIS_TEST(Sequencer, ACancellationInsideATurnStillLetsTheNextStepBegin) {
    sequencer seq;
    std::vector<std::string> log;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(take_step, std::ref(seq), std::ref(log), 1, std::string("next"));
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                auto turn = co_await seq(0);
                log.push_back("first");
                co_await trellis::sleep_forever();
            });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
    });
    EXPECT_EQ(log, (std::vector<std::string>{"first", "next", "next done"}));
}

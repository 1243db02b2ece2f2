// Misuse of trellis gets run_error with a message that says what was wrong:
// calls outside a run, from the wrong thread, on objects in the wrong state.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <coroutine>
#include <future>
#include <string>
#include <thread>
#include <utility>

using namespace std::chrono_literals;
namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// The message of the run_error that f() raises; "" if it raises none.
template <class F>
std::string run_error_message(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const trellis::run_error& e) {
        return e.what();
    }
    return "";
}

// The same, with f() called on a new thread.
template <class F>
std::string run_error_message_on_another_thread(F f) {
    std::string message;
    std::thread other([&] { message = run_error_message(f); });
    other.join();
    return message;
}

// The message names the call the user made (not one trellis made on its
// behalf) and says the problem: outside a run.
bool says_outside_a_run(const std::string& message, const std::string& call) {
    return message.find("outside a trellis run") != std::string::npos && message.rfind(call, 0) == 0;
}

bool says_wrong_thread(const std::string& message) {
    return message.find("thread") != std::string::npos &&
           message.find("run_sync_soon") != std::string::npos;
}

lowlevel::run_var<int> some_run_var(0);

}  // namespace

// ---- Outside a run. ----

TEST(Misuse, CurrentTimeOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { trellis::current_time(); });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::current_time")) << message;
}

TEST(Misuse, SleepOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { (void)trellis::sleep(1s); });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::sleep")) << message;
}

TEST(Misuse, CurrentTokenOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { trellis::current_token(); });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::current_token")) << message;
}

TEST(Misuse, CurrentTaskOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { lowlevel::current_task(); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::current_task")) << message;
}

TEST(Misuse, CurrentRootTaskOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { lowlevel::current_root_task(); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::current_root_task")) << message;
}

TEST(Misuse, CurrentEffectiveDeadlineOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { trellis::current_effective_deadline(); });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::current_effective_deadline")) << message;
}

TEST(Misuse, NotifyClosingOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { lowlevel::notify_closing(0); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::notify_closing")) << message;
}

TEST(Misuse, SpawnSystemTaskOutsideARunRaisesRunError) {
    const auto message =
        run_error_message([] { lowlevel::spawn_system_task([]() -> trellis::task<> { co_return; }); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::spawn_system_task")) << message;
}

TEST(Misuse, RunVarOutsideARunRaisesRunError) {
    const auto message = run_error_message([] { some_run_var.set(1); });
    EXPECT_TRUE(says_outside_a_run(message, "run_var::set")) << message;
}

TEST(Misuse, AddInstrumentOutsideARunRaisesRunError) {
    const auto message =
        run_error_message([] { lowlevel::add_instrument(std::make_shared<lowlevel::instrument>()); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::add_instrument")) << message;
}

TEST(Misuse, CurrentClockOutsideARunRaisesRunErrorNamingIt) {
    const auto message = run_error_message([] { lowlevel::current_clock(); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::current_clock")) << message;
}

TEST(Misuse, CurrentStatisticsOutsideARunRaisesRunErrorNamingIt) {
    const auto message = run_error_message([] { (void)lowlevel::current_statistics(); });
    EXPECT_TRUE(says_outside_a_run(message, "lowlevel::current_statistics")) << message;
}

TEST(Misuse, TaskLocalSetOutsideARunRaisesRunErrorNamingIt) {
    static trellis::task_local<int> some_local(0);
    const auto message = run_error_message([] { (void)some_local.set(1); });
    EXPECT_TRUE(says_outside_a_run(message, "task_local::set")) << message;
}

// Awaited outside a run (a coroutine that is not a trellis task awaits it:
// await_suspend is what such a coroutine calls), each sleep names itself.
TEST(Misuse, SleepUntilAwaitedOutsideARunRaisesRunErrorNamingIt) {
    const auto message = run_error_message([] {
        auto sleeping = trellis::sleep_until(trellis::inf);
        sleeping.await_suspend(std::noop_coroutine());
    });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::sleep_until")) << message;
}

TEST(Misuse, SleepForeverAwaitedOutsideARunRaisesRunErrorNamingIt) {
    const auto message = run_error_message([] {
        auto sleeping = trellis::sleep_forever();
        sleeping.await_suspend(std::noop_coroutine());
    });
    EXPECT_TRUE(says_outside_a_run(message, "trellis::sleep_forever")) << message;
}

TEST(Misuse, RunVarGetOutsideARunRaisesRunErrorNamingIt) {
    const auto message = run_error_message([] { (void)some_run_var.get(); });
    EXPECT_TRUE(says_outside_a_run(message, "run_var::get")) << message;
}

// ---- Inside a run, in the wrong place. ----

TEST(Misuse, RunInsideARunRaisesRunError) {
    std::string message;
    trellis::run([&]() -> trellis::task<> {
        message = run_error_message([] { trellis::run([]() -> trellis::task<> { co_return; }); });
        co_return;
    });
    EXPECT_NE(message.find("already active"), std::string::npos) << message;
}

TEST(Misuse, RunInsideARunLeavesTheOuterRunWorking) {
    const int value = trellis::run([]() -> trellis::task<int> {
        EXPECT_THROW(trellis::run([]() -> trellis::task<> { co_return; }), trellis::run_error);
        co_await trellis::sleep(1ms);
        co_return trellis::current_token() == trellis::current_token() ? 3 : 0;
    });
    EXPECT_EQ(value, 3);
}

TRELLIS_TEST(Misuse, CurrentTaskInATokenCallbackRaisesRunErrorSayingSo) {
    std::string message;
    trellis::event done;
    trellis::current_token().run_sync_soon([&] {
        message = run_error_message([] { lowlevel::current_task(); });
        done.set();
    });
    co_await done.wait();
    EXPECT_NE(message.find("outside a trellis task"), std::string::npos) << message;
}

// ---- From another thread during a run. ----

TRELLIS_TEST(Misuse, CancellingAScopeFromAnotherThreadRaisesRunError) {
    trellis::cancel_scope scope;
    std::string message;
    co_await scope.run([&]() -> trellis::task<> {
        message = run_error_message_on_another_thread([&] { scope.cancel(); });
        co_return;
    });
    EXPECT_TRUE(says_wrong_thread(message)) << message;
    EXPECT_FALSE(scope.cancel_called());
}

TRELLIS_TEST(Misuse, MovingADeadlineFromAnotherThreadRaisesRunError) {
    trellis::cancel_scope scope;
    std::string deadline_message;
    std::string shield_message;
    co_await scope.run([&]() -> trellis::task<> {
        deadline_message = run_error_message_on_another_thread([&] { scope.set_deadline(trellis::neg_inf); });
        shield_message = run_error_message_on_another_thread([&] { scope.set_shield(true); });
        co_return;
    });
    EXPECT_TRUE(says_wrong_thread(deadline_message)) << deadline_message;
    EXPECT_TRUE(says_wrong_thread(shield_message)) << shield_message;
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST(Misuse, SettingAnEventWithWaitersFromAnotherThreadRaisesRunError) {
    trellis::event ev;
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await ev.wait(); });
        co_await wait_all_tasks_blocked();
        message = run_error_message_on_another_thread([&] { ev.set(); });
        EXPECT_FALSE(ev.is_set());
        ev.set();  // from the right thread it works
    });
    EXPECT_TRUE(says_wrong_thread(message)) << message;
}

TRELLIS_TEST(Misuse, UnparkingFromAnotherThreadRaisesRunError) {
    lowlevel::parking_lot lot;
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await lot.park(); });
        co_await wait_all_tasks_blocked();
        message = run_error_message_on_another_thread([&] { lot.unpark(); });
        EXPECT_EQ(lot.statistics().tasks_waiting, 1u);
        lot.unpark_all();
    });
    EXPECT_TRUE(says_wrong_thread(message)) << message;
}

TRELLIS_TEST(Misuse, RescheduleFromAnotherThreadRaisesRunError) {
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        lowlevel::task_handle blocked;
        n.start_soon([&]() -> trellis::task<> {
            blocked = lowlevel::current_task();
            co_await lowlevel::wait_task_rescheduled(
                [](const std::exception_ptr&) { return lowlevel::abort_result::succeeded; });
        });
        co_await wait_all_tasks_blocked();
        message = run_error_message_on_another_thread([&] { lowlevel::reschedule(blocked); });
        lowlevel::reschedule(blocked);
    });
    EXPECT_TRUE(says_wrong_thread(message)) << message;
}

TRELLIS_TEST(Misuse, StartSoonFromAnotherThreadRaisesRunError) {
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        message = run_error_message_on_another_thread(
            [&] { n.start_soon([]() -> trellis::task<> { co_return; }); });
        EXPECT_TRUE(n.child_tasks().empty());
        co_return;
    });
    EXPECT_NE(message.find("run_sync_soon"), std::string::npos) << message;
}

TEST(Misuse, SpawningIntoANurseryOfAnotherRunRaisesRunError) {
    // Run A publishes its nursery and blocks its thread until run B, on
    // another thread, has tried to use it.
    std::promise<trellis::nursery*> published;
    std::promise<std::string> tried;
    std::thread b([&] {
        trellis::nursery* theirs = published.get_future().get();
        trellis::run([&]() -> trellis::task<> {
            tried.set_value(run_error_message([&] { theirs->start_soon([]() -> trellis::task<> { co_return; }); }));
            co_return;
        });
    });
    std::string message;
    trellis::run([&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            published.set_value(&n);
            message = tried.get_future().get();
            co_return;
        });
    });
    b.join();
    EXPECT_NE(message.find("different trellis run"), std::string::npos) << message;
}

// ---- Objects in the wrong state. ----

TRELLIS_TEST(Misuse, ReschedulingARunningTaskRaisesRunError) {
    const auto message = run_error_message([] { lowlevel::reschedule(lowlevel::current_task()); });
    EXPECT_NE(message.find("not blocked"), std::string::npos) << message;
    co_return;
}

TRELLIS_TEST(Misuse, ReschedulingATaskTwiceRaisesRunError) {
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        lowlevel::task_handle blocked;
        n.start_soon([&]() -> trellis::task<> {
            blocked = lowlevel::current_task();
            co_await lowlevel::wait_task_rescheduled(
                [](const std::exception_ptr&) { return lowlevel::abort_result::succeeded; });
        });
        co_await wait_all_tasks_blocked();
        lowlevel::reschedule(blocked);
        message = run_error_message([&] { lowlevel::reschedule(blocked); });
    });
    EXPECT_NE(message.find("not blocked"), std::string::npos) << message;
}

TRELLIS_TEST(Misuse, ReschedulingARunnableTaskRaisesRunError) {
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        lowlevel::task_handle yielding;
        n.start_soon([&]() -> trellis::task<> {
            yielding = lowlevel::current_task();
            co_await trellis::checkpoint();
        });
        co_await trellis::checkpoint();  // the child is now between two steps
        message = run_error_message([&] { lowlevel::reschedule(yielding); });
    });
    EXPECT_NE(message.find("not blocked"), std::string::npos) << message;
}

TRELLIS_TEST(Misuse, ReschedulingAnEmptyHandleRaisesRunError) {
    EXPECT_THROW(lowlevel::reschedule(lowlevel::task_handle()), trellis::run_error);
    co_return;
}

TRELLIS_TEST(Misuse, EnteringACancelScopeTwiceRaisesRunError) {
    trellis::cancel_scope scope;
    co_await scope.run([]() -> trellis::task<> { co_return; });
    std::string message;
    try {
        co_await scope.run([]() -> trellis::task<> { co_return; });
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("already entered"), std::string::npos) << message;
}

// A nursery is closed (but its object still alive) between its last child's
// exit and the moment its parent task resumes; a task that spawns into it in
// that window gets run_error.
TRELLIS_TEST(Misuse, StartSoonIntoAClosedNurseryRaisesRunError) {
    trellis::nursery* inner = nullptr;
    trellis::event child_may_exit;
    trellis::event spawner_may_spawn;
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& outer) -> trellis::task<> {
        outer.start_soon([&]() -> trellis::task<> {
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                inner = &n;
                n.start_soon([&]() -> trellis::task<> { co_await child_may_exit.wait(); });
                co_return;
            });
        });
        outer.start_soon([&]() -> trellis::task<> {
            co_await spawner_may_spawn.wait();
            EXPECT_TRUE(inner->closed());
            message = run_error_message([&] { inner->start_soon([]() -> trellis::task<> { co_return; }); });
        });
        co_await wait_all_tasks_blocked();
        // Both wake in this order in the same batch: the child exits (closing
        // the nursery) before the spawner runs, and before the nursery's
        // parent resumes.
        child_may_exit.set();
        spawner_may_spawn.set();
    });
    EXPECT_NE(message.find("closed"), std::string::npos) << message;
}

TRELLIS_TEST(Misuse, AwaitingAMovedFromTaskRaisesRunError) {
    auto t = []() -> trellis::task<> { co_return; }();
    auto moved = std::move(t);
    co_await std::move(moved);
    EXPECT_THROW(co_await std::move(t), trellis::run_error);
}

TRELLIS_TEST(Misuse, StartWithoutCallingStartedRaisesRunError) {
    std::string message;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        try {
            co_await n.start([](trellis::task_status<> = {}) -> trellis::task<> { co_return; });
        } catch (const trellis::run_error& e) {
            message = e.what();
        }
    });
    EXPECT_NE(message.find("started()"), std::string::npos) << message;
}

// lowlevel::spawn_system_task: tasks that belong to the run, not to a nursery.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

TRELLIS_TEST(SystemTask, RunsItsFunctionWithItsArguments) {
    int sum = 0;
    trellis::event done;
    lowlevel::spawn_system_task(
        [&](int a, int b) -> trellis::task<> {
            co_await trellis::checkpoint();
            sum = a + b;
            done.set();
        },
        2, 3);
    co_await done.wait();
    EXPECT_EQ(sum, 5);
}

TRELLIS_TEST(SystemTask, IsAChildOfTheRootTask) {
    lowlevel::task_handle parent;
    trellis::event done;
    lowlevel::spawn_system_task([&]() -> trellis::task<> {
        parent = lowlevel::current_task().parent_nursery()->parent_task();
        done.set();
        co_return;
    });
    co_await done.wait();
    EXPECT_EQ(parent, lowlevel::current_root_task());
}

TRELLIS_TEST(SystemTask, CanBeNamed) {
    std::string name;
    trellis::event done;
    lowlevel::spawn_system_task(trellis::named("housekeeper"), [&]() -> trellis::task<> {
        name = lowlevel::current_task().name();
        done.set();
        co_return;
    });
    co_await done.wait();
    EXPECT_EQ(name, "housekeeper");
}

TRELLIS_TEST(SystemTask, IsNotCancelledByTheSpawningTasksScope) {
    bool system_cancelled = false;
    trellis::event finished;
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> trellis::task<> {
        lowlevel::spawn_system_task([&]() -> trellis::task<> {
            try {
                co_await trellis::sleep(1ms);
            } catch (const trellis::cancelled&) {
                system_cancelled = true;
                throw;
            }
            finished.set();
        });
        scope.cancel();
        co_return;
    });
    co_await finished.wait();
    EXPECT_FALSE(system_cancelled);
}

TEST(SystemTask, IsCancelledWhenTheMainTaskFinishes) {
    bool cancelled = false;
    const int value = trellis::run([&]() -> trellis::task<int> {
        lowlevel::spawn_system_task([&]() -> trellis::task<> {
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
                cancelled = true;
                throw;
            }
        });
        co_await wait_all_tasks_blocked();
        co_return 17;
    });
    EXPECT_EQ(value, 17);
    EXPECT_TRUE(cancelled);
}

TEST(SystemTask, ErrorEndsTheRunWithAnInternalErrorHoldingItAndCancelsMain) {
    bool main_cancelled = false;
    std::string error;
    try {
        trellis::run([&]() -> trellis::task<> {
            lowlevel::spawn_system_task([]() -> trellis::task<> {
                co_await trellis::checkpoint();
                throw std::runtime_error("system task failed");
            });
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
                main_cancelled = true;
                throw;
            }
        });
    } catch (const trellis::internal_error& e) {
        // As Trio's TrioInternalError: the original is nested inside.
        try {
            e.rethrow_nested();
        } catch (const std::runtime_error& original) {
            error = original.what();
        }
    }
    EXPECT_EQ(error, "system task failed");
    EXPECT_TRUE(main_cancelled);
}

TEST(SystemTask, ErrorWinsOverTheMainTasksValue) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<int> {
                     lowlevel::spawn_system_task([]() -> trellis::task<> {
                         throw std::runtime_error("system task failed");
                         co_return;
                     });
                     co_await trellis::checkpoint();
                     co_await trellis::checkpoint();
                     co_return 1;
                 }),
                 trellis::internal_error);
}

TEST(SystemTask, ErrorWhileBeingCancelledAtTheEndStillFailsTheRun) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     lowlevel::spawn_system_task([]() -> trellis::task<> {
                         try {
                             co_await trellis::sleep_forever();
                         } catch (const trellis::cancelled&) {
                         }
                         throw std::logic_error("cleanup failed");
                     });
                     co_await wait_all_tasks_blocked();
                 }),
                 trellis::internal_error);
}

TEST(SystemTask, SpawnOutsideARunRaisesRunError) {
    std::string message;
    try {
        lowlevel::spawn_system_task([]() -> trellis::task<> { co_return; });
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("outside a trellis run"), std::string::npos) << message;
}

TEST(SystemTask, SpawnedAfterTheMainTaskFinishedStartsCancelled) {
    bool late_task_ran = false;
    bool late_task_cancelled = false;
    trellis::run([&]() -> trellis::task<> {
        lowlevel::spawn_system_task([&]() -> trellis::task<> {
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
            }
            // The run is shutting down now; as in Trio, a late system task
            // is still accepted, and is cancelled at its first checkpoint.
            lowlevel::spawn_system_task([&]() -> trellis::task<> {
                late_task_ran = true;
                try {
                    co_await trellis::checkpoint();
                } catch (const trellis::cancelled&) {
                    late_task_cancelled = true;
                    throw;
                }
            });
        });
        co_await wait_all_tasks_blocked();
    });
    EXPECT_TRUE(late_task_ran);
    EXPECT_TRUE(late_task_cancelled);
}

TRELLIS_TEST(SystemTask, CurrentRootTaskIsTheParentOfTheSystemNursery) {
    // The main task runs in the system nursery too.
    lowlevel::task_handle main = lowlevel::current_task();
    trellis::nursery* system_nursery = main.parent_nursery();
    EXPECT_NE(system_nursery, nullptr);
    if (!system_nursery) co_return;
    EXPECT_EQ(system_nursery->parent_task(), lowlevel::current_root_task());
    EXPECT_EQ(lowlevel::current_root_task().parent_nursery(), nullptr);
    co_return;
}

// lowlevel::instrument: which hooks fire, in what order, and what happens
// when instruments come, go, or throw.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace lowlevel = trellis::lowlevel;

namespace {

// Records every hook as "hook" or "hook:task-name".
class recorder : public lowlevel::instrument {
public:
    std::vector<std::string> log;
    // Tasks seen by before_task_step that were not the current task.
    int wrong_current_task = 0;

    void before_run() override { log.push_back("before_run"); }
    void after_run() override { log.push_back("after_run"); }
    void task_spawned(lowlevel::task_handle t) override { log.push_back("spawned:" + t.name()); }
    void task_scheduled(lowlevel::task_handle t) override { log.push_back("scheduled:" + t.name()); }
    void before_task_step(lowlevel::task_handle t) override {
        if (!(lowlevel::current_task() == t)) ++wrong_current_task;
        log.push_back("before:" + t.name());
    }
    void after_task_step(lowlevel::task_handle t) override {
        if (!(lowlevel::current_task() == t)) ++wrong_current_task;
        log.push_back("after:" + t.name());
    }
    void task_exited(lowlevel::task_handle t) override { log.push_back("exited:" + t.name()); }
    void before_io_wait(trellis::duration) override { log.push_back("before_io_wait"); }
    void after_io_wait(trellis::duration) override { log.push_back("after_io_wait"); }

    // The entries about the task named `name`, plus before_run/after_run.
    std::vector<std::string> about(const std::string& name) const {
        std::vector<std::string> out;
        for (const auto& e : log) {
            const auto colon = e.find(':');
            if (colon == std::string::npos ? (e == "before_run" || e == "after_run") : e.substr(colon + 1) == name)
                out.push_back(e);
        }
        return out;
    }
};

trellis::run_options with(std::vector<std::shared_ptr<lowlevel::instrument>> instruments) {
    trellis::run_options options;
    options.instruments = std::move(instruments);
    return options;
}

// The tiny program: a child named "child" that checkpoints once.
trellis::task<> tiny_program() {
    co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(trellis::named("child"), []() -> trellis::task<> { co_await trellis::checkpoint(); });
        co_return;
    });
}

}  // namespace

TEST(Instrument, HooksForATaskComeInTheOrderItsLifeHappens) {
    auto r = std::make_shared<recorder>();
    trellis::run(with({r}), tiny_program);
    // A checkpoint reschedules the task before its step ends.
    EXPECT_EQ(r->about("child"), (std::vector<std::string>{
                                     "before_run",
                                     "spawned:child",
                                     "scheduled:child",
                                     "before:child",
                                     "scheduled:child",
                                     "after:child",
                                     "before:child",
                                     "after:child",
                                     "exited:child",
                                     "after_run",
                                 }));
    EXPECT_EQ(r->wrong_current_task, 0);
}

TEST(Instrument, BeforeRunComesFirstAndAfterRunLast) {
    auto r = std::make_shared<recorder>();
    trellis::run(with({r}), tiny_program);
    ASSERT_GE(r->log.size(), 2u);
    EXPECT_EQ(r->log.front(), "before_run");
    EXPECT_EQ(r->log.back(), "after_run");
    EXPECT_EQ(std::count(r->log.begin(), r->log.end(), "before_run"), 1);
    EXPECT_EQ(std::count(r->log.begin(), r->log.end(), "after_run"), 1);
}

TEST(Instrument, IoWaitHooksComeInPairsBetweenTaskSteps) {
    auto r = std::make_shared<recorder>();
    trellis::run(with({r}), []() -> trellis::task<> { co_await trellis::sleep(1ms); });
    std::vector<std::string> io;
    for (const auto& e : r->log)
        if (e == "before_io_wait" || e == "after_io_wait") io.push_back(e);
    ASSERT_GE(io.size(), 2u);
    for (std::size_t i = 0; i < io.size(); ++i) EXPECT_EQ(io[i], i % 2 == 0 ? "before_io_wait" : "after_io_wait");
    // No task step happens inside an I/O wait.
    bool in_wait = false;
    for (const auto& e : r->log) {
        if (e == "before_io_wait") in_wait = true;
        if (e == "after_io_wait") in_wait = false;
        if (e.rfind("before:", 0) == 0) {
            EXPECT_FALSE(in_wait);
        }
    }
}

TEST(Instrument, IoWaitHooksGetTheWaitTimeout) {
    struct timeouts : lowlevel::instrument {
        std::vector<trellis::duration> before;
        std::vector<trellis::duration> after;
        void before_io_wait(trellis::duration t) override { before.push_back(t); }
        void after_io_wait(trellis::duration t) override { after.push_back(t); }
    };
    auto r = std::make_shared<timeouts>();
    trellis::run(with({r}), []() -> trellis::task<> { co_await trellis::sleep(5ms); });
    EXPECT_EQ(r->before, r->after);
    // Some wait was for the sleep: longer than zero, no longer than 5 ms.
    EXPECT_TRUE(std::any_of(r->before.begin(), r->before.end(),
                            [](trellis::duration t) { return t > 0ms && t <= 5ms; }));
}

TEST(Instrument, EveryTaskIsSpawnedThenScheduledBeforeItsFirstStep) {
    auto r = std::make_shared<recorder>();
    trellis::run(with({r}), tiny_program);
    std::vector<std::string> names;
    for (const auto& e : r->log)
        if (e.rfind("spawned:", 0) == 0) names.push_back(e.substr(8));
    EXPECT_GE(names.size(), 3u);  // root, main, child at least
    for (const auto& name : names) {
        auto seq = r->about(name);
        // before_run, spawned, scheduled, before, ...
        ASSERT_GE(seq.size(), 4u) << name;
        EXPECT_EQ(seq[1], "spawned:" + name);
        EXPECT_EQ(seq[2], "scheduled:" + name);
        EXPECT_EQ(seq[3], "before:" + name);
    }
}

TEST(Instrument, EveryTaskExitsExactlyOnce) {
    auto r = std::make_shared<recorder>();
    trellis::run(with({r}), tiny_program);
    const auto spawned = std::count_if(r->log.begin(), r->log.end(),
                                       [](const std::string& e) { return e.rfind("spawned:", 0) == 0; });
    const auto exited = std::count_if(r->log.begin(), r->log.end(),
                                      [](const std::string& e) { return e.rfind("exited:", 0) == 0; });
    EXPECT_EQ(spawned, exited);
    EXPECT_EQ(std::count(r->log.begin(), r->log.end(), "exited:child"), 1);
}

TEST(Instrument, InstrumentsCanBeAddedAndRemovedDuringARun) {
    auto r1 = std::make_shared<recorder>();
    auto r2 = std::make_shared<recorder>();
    auto r3 = std::make_shared<recorder>();
    trellis::run(with({r1, r2}), [&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(trellis::named("child"), [&]() -> trellis::task<> {
                for (int i = 0; i < 4; ++i) co_await trellis::checkpoint();
                lowlevel::remove_instrument(r2);
                EXPECT_THROW(lowlevel::remove_instrument(r2), trellis::run_error);
                lowlevel::add_instrument(r3);
                lowlevel::add_instrument(r3);  // adding twice installs it once
                co_await trellis::checkpoint();
            });
            co_return;
        });
    });
    // r2 saw the first part, r3 the rest, r1 everything: nothing twice.
    std::vector<std::string> joined = r2->log;
    joined.insert(joined.end(), r3->log.begin(), r3->log.end());
    EXPECT_EQ(r1->log, joined);
    EXPECT_EQ(r3->log.back(), "after_run");
    EXPECT_EQ(std::count(r3->log.begin(), r3->log.end(), "before_run"), 0);
    std::vector<std::string> expected = {"before_run", "spawned:child", "scheduled:child"};
    for (int i = 0; i < 5; ++i)
        expected.insert(expected.end(), {"before:child", "scheduled:child", "after:child"});
    expected.insert(expected.end(), {"before:child", "after:child", "exited:child", "after_run"});
    EXPECT_EQ(r1->about("child"), expected);
}

TEST(Instrument, AnInstrumentThatThrowsIsRemovedAndTheRunGoesOn) {
    struct broken : lowlevel::instrument {
        int calls = 0;
        void task_scheduled(lowlevel::task_handle) override {
            ++calls;
            throw std::runtime_error("oops");
        }
    };
    auto bad = std::make_shared<broken>();
    auto good = std::make_shared<recorder>();
    bool main_ran = false;
    trellis::run(with({bad, good}), [&]() -> trellis::task<> {
        main_ran = true;
        co_await trellis::checkpoint();
        // It is gone from the run.
        EXPECT_THROW(lowlevel::remove_instrument(bad), trellis::run_error);
    });
    EXPECT_TRUE(main_ran);
    EXPECT_EQ(bad->calls, 1);
    EXPECT_EQ(good->log.back(), "after_run");
}

TEST(Instrument, AnInstrumentThatThrowsDoesNotHideTheEventFromTheOthers) {
    struct broken : lowlevel::instrument {
        void before_run() override { throw std::runtime_error("oops"); }
    };
    auto bad = std::make_shared<broken>();
    auto good = std::make_shared<recorder>();
    trellis::run(with({bad, good}), []() -> trellis::task<> { co_return; });
    EXPECT_EQ(good->log.front(), "before_run");
}

TEST(Instrument, AnInstrumentThatRemovesItselfDoesNotHideTheEventFromTheOthers) {
    struct self_removing : lowlevel::instrument {
        std::shared_ptr<lowlevel::instrument> self;
        void task_exited(lowlevel::task_handle) override {
            if (self) lowlevel::remove_instrument(std::exchange(self, nullptr));
        }
    };
    auto first = std::make_shared<self_removing>();
    first->self = first;
    auto second = std::make_shared<recorder>();
    trellis::run(with({first, second}), tiny_program);
    EXPECT_EQ(std::count(second->log.begin(), second->log.end(), "exited:child"), 1);
    EXPECT_EQ(second->about("child").back(), "after_run");
    EXPECT_EQ(std::count_if(second->log.begin(), second->log.end(),
                            [](const std::string& e) { return e.rfind("exited:", 0) == 0; }),
              std::count_if(second->log.begin(), second->log.end(),
                            [](const std::string& e) { return e.rfind("spawned:", 0) == 0; }));
}

TEST(Instrument, AddingANullInstrumentRaisesRunError) {
    trellis::run([]() -> trellis::task<> {
        EXPECT_THROW(lowlevel::add_instrument(nullptr), trellis::run_error);
        co_return;
    });
}

TEST(Instrument, AddingOutsideARunRaisesRunError) {
    EXPECT_THROW(lowlevel::add_instrument(std::make_shared<recorder>()), trellis::run_error);
    EXPECT_THROW(lowlevel::remove_instrument(std::make_shared<recorder>()), trellis::run_error);
}

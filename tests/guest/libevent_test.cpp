// The conformance suite on a real libevent event_base, and the libevent
// adapter's own behaviour: the threading check, trellis::libevent::run,
// release_base, and fairness to the base's other events.
#include <event2/thread.h>
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <list>

#include <trellis/libevent.hpp>

#include "conformance.hpp"
#include "libevent_loop.hpp"

namespace libevent_host_test {

using namespace std::chrono_literals;
using trellis::task;

// evthread_use_pthreads() is process-wide and must come before the bases
// it should apply to. Every test turns it on lazily (never at static
// initialisation), so that the death test below, which runs in a fresh
// process, can first create a base without it.
inline void enable_threading() {
    static const bool enabled = evthread_use_pthreads() == 0;
    ASSERT_TRUE(enabled);
}

// A base of its own per test, freed the way an application would.
class libevent_fixture {
public:
    libevent_fixture() {
        enable_threading();
        base_ = event_base_new();
    }
    ~libevent_fixture() {
        if (base_) destroy_loop();
    }

    template <class Done, class F>
    trellis::guest_run start(const trellis::run_options& options, Done done, F fn) {
        run_.emplace(trellis::libevent::start_guest_run(base_, options, std::move(done), std::move(fn)));
        return *run_;
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_libevent_until(base_, pred, timeout);
    }
    // One iteration of the loop, without waiting.
    void iterate_once() { event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK); }
    void call_soon(std::function<void()> fn) { call_later(0ms, std::move(fn)); }
    void call_later(std::chrono::milliseconds delay, std::function<void()> fn) {
        auto& pending = pending_.emplace_back();
        pending.owner = this;
        pending.fn = std::move(fn);
        pending.self = std::prev(pending_.end());
        pending.ev = evtimer_new(base_, &fire, &pending);
        const timeval tv = guest_test::to_timeval(delay);
        evtimer_add(pending.ev, &tv);
    }
    // An application shutting down: it tells trellis, then frees the base
    // (whose pending events never run).
    void destroy_loop() {
        trellis::libevent::release_base(base_);
        for (auto& p : pending_) event_free(p.ev);
        pending_.clear();
        event_base_free(std::exchange(base_, nullptr));
    }
    event_base* base() const noexcept { return base_; }

private:
    struct pending_call {
        libevent_fixture* owner;
        std::function<void()> fn;
        std::list<pending_call>::iterator self;
        event* ev;
    };
    static void fire(evutil_socket_t, short, void* arg) {
        auto* p = static_cast<pending_call*>(arg);
        auto fn = std::move(p->fn);
        event_free(p->ev);
        p->owner->pending_.erase(p->self);
        fn();
    }

    event_base* base_ = nullptr;
    std::list<pending_call> pending_;
    std::optional<trellis::guest_run> run_;
};

class LibeventAdapter : public ::testing::Test {
protected:
    libevent_fixture loop;
};

// ---- The threading check. ----

// evthread_use_pthreads() cannot be undone, so this runs in a freshly
// started copy of this program (the "threadsafe" death-test style re-executes
// it), where no test has turned threading on yet.
TEST(LibeventAdapterDeathTest, RefusesABaseCreatedBeforeThreadingWasEnabled) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            event_base* base = event_base_new();
            evthread_use_pthreads();
            int code = 1;
            try {
                trellis::libevent::start_guest_run(base, [](trellis::outcome<void>) {},
                                                   []() -> task<> { co_return; });
                std::fprintf(stderr, "accepted\n");
            } catch (const trellis::run_error& e) {
                std::fprintf(stderr, "%s\n", e.what());
                code = 0;
            }
            event_base_free(base);
            std::exit(code);
        },
        ::testing::ExitedWithCode(0), "call evthread_use_pthreads\\(\\) before event_base_new\\(\\)");
}

TEST(LibeventAdapterThreading, RefusesABaseCreatedWithoutLocks) {
    enable_threading();
    event_config* config = event_config_new();
    event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK);
    event_base* base = event_base_new_with_config(config);
    event_config_free(config);
    EXPECT_THROW(trellis::libevent::start_guest_run(base, [](trellis::outcome<void>) {},
                                                    []() -> task<> { co_return; }),
                 trellis::run_error);
    EXPECT_FALSE(trellis::in_trellis_run());
    event_base_free(base);
}

TEST_F(LibeventAdapter, AcceptsABaseWithSignalEventsAndThreading) {
    event* sig = evsignal_new(loop.base(), SIGUSR2, [](evutil_socket_t, short, void*) {}, nullptr);
    evsignal_add(sig, nullptr);
    EXPECT_EQ(trellis::libevent::run(loop.base(), []() -> task<int> { co_return 3; }), 3);
    event_free(sig);
}

// ---- Running. ----

TEST_F(LibeventAdapter, RunReturnsTheMainTasksValue) {
    EXPECT_EQ(trellis::libevent::run(loop.base(), []() -> task<int> {
                  co_await trellis::sleep(1ms);
                  co_return 42;
              }),
              42);
}

TEST_F(LibeventAdapter, RunRethrowsTheMainTasksError) {
    EXPECT_THROW(trellis::libevent::run(loop.base(), []() -> task<> {
                     co_await trellis::checkpoint();
                     throw std::out_of_range("bad");
                 }),
                 std::out_of_range);
}

TEST_F(LibeventAdapter, RunKeepsServingTheBasesOtherEvents) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    trellis::event readable;
    event* watcher = event_new(
        loop.base(), fds[0], EV_READ, [](evutil_socket_t, short, void* ev) { static_cast<trellis::event*>(ev)->set(); },
        &readable);
    event_add(watcher, nullptr);
    trellis::libevent::run(loop.base(), [&]() -> task<> {
        EXPECT_EQ(::write(fds[1], "x", 1), 1);
        co_await readable.wait();
    });
    EXPECT_TRUE(readable.is_set());
    event_free(watcher);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_F(LibeventAdapter, EventBaseDispatchDoesNotReturnWhileTheRunWaitsOnItsWorker) {
    bool done = false;
    trellis::libevent::start_guest_run(loop.base(),
                                       [&](trellis::outcome<void> o) {
                                           o.unwrap();
                                           done = true;
                                       },
                                       []() -> task<> { co_await trellis::sleep(5ms); });
    // Nothing else is pending on the base: only the run keeps it going.
    EXPECT_EQ(event_base_dispatch(loop.base()), 1);  // 1: no events left, after the run ended
    EXPECT_TRUE(done);
}

TEST_F(LibeventAdapter, BusyRunLetsTheBasesOtherEventsRun) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    bool host_saw_io = false;
    event* watcher = event_new(
        loop.base(), fds[0], EV_READ, [](evutil_socket_t, short, void* flag) { *static_cast<bool*>(flag) = true; },
        &host_saw_io);
    event_add(watcher, nullptr);
    // The write comes while the run is busy: the base sees it only if it
    // keeps polling for I/O between the run's slices of work.
    std::thread writer([&] {
        std::this_thread::sleep_for(5ms);
        EXPECT_EQ(::write(fds[1], "x", 1), 1);
    });
    long checkpoints = trellis::libevent::run(loop.base(), [&]() -> task<long> {
        long n = 0;
        while (!host_saw_io && n < 50'000'000) {
            co_await trellis::checkpoint();
            ++n;
        }
        co_return n;
    });
    writer.join();
    EXPECT_TRUE(host_saw_io);
    EXPECT_LT(checkpoints, 50'000'000);
    event_free(watcher);
    ::close(fds[0]);
    ::close(fds[1]);
}

// ---- release_base. ----

TEST_F(LibeventAdapter, ReleaseBaseLeavesAFinishedRunAlone) {
    EXPECT_EQ(trellis::libevent::run(loop.base(), []() -> task<int> { co_return 1; }), 1);
    ::testing::internal::CaptureStderr();
    trellis::libevent::release_base(loop.base());
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(LibeventAdapter, ReleaseBaseOnlyAbandonsRunsOnThatBase) {
    event_base* other = event_base_new();
    bool done = false;
    trellis::libevent::start_guest_run(loop.base(), [&](trellis::outcome<void> o) { o.unwrap(); done = true; },
                                       []() -> task<> { co_await trellis::sleep(1ms); });
    trellis::libevent::release_base(other);
    event_base_free(other);
    EXPECT_TRUE(loop.run_until([&] { return done; }, 2000ms));
}

TEST_F(LibeventAdapter, ReleasingTheBaseWhileTheRunIsBusyAbandonsIt) {
    bool frame_destroyed = false;
    struct on_destroy {
        bool* flag;
        ~on_destroy() { *flag = true; }
    };
    trellis::libevent::start_guest_run(loop.base(), [](trellis::outcome<void>) { ADD_FAILURE() << "done ran"; },
                                       [&]() -> task<> {
                                           on_destroy guard{&frame_destroyed};
                                           for (;;) co_await trellis::checkpoint();
                                       });
    loop.run_until([] { return false; }, 5ms);
    ::testing::internal::CaptureStderr();
    loop.destroy_loop();
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("abandoned"), std::string::npos);
    EXPECT_TRUE(frame_destroyed);
    EXPECT_FALSE(trellis::in_trellis_run());
}

}  // namespace libevent_host_test

namespace conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(LibeventHost, GuestConformance, ::testing::Types<libevent_host_test::libevent_fixture>);
// The same suite with host-native I/O waiting (run_options::guest_io).
INSTANTIATE_TYPED_TEST_SUITE_P(LibeventHostNative, GuestConformance, ::testing::Types<native_mode<libevent_host_test::libevent_fixture>>);
}

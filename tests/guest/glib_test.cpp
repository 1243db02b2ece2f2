// The conformance suite on a real GLib main context, and the GLib adapter's
// own behaviour: the thread-default context, trellis::glib::run, and
// wait_signal on real GObject signals.
#include <trellis/glib.hpp>
#include <trellis/testing/mock_clock.hpp>

#include "conformance.hpp"
#include "glib_loop.hpp"

#include <thread>
#include <vector>

namespace glib_host_test {

using namespace std::chrono_literals;
using trellis::task;

// Runs `fn` once on `context` from a source made by `make` (idle or timeout).
inline void attach_callback(GMainContext* context, GSource* source, std::function<void()> fn) {
    g_source_set_callback(
        source,
        [](gpointer data) -> gboolean {
            (*static_cast<std::function<void()>*>(data))();
            return G_SOURCE_REMOVE;
        },
        new std::function<void()>(std::move(fn)),
        [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
    g_source_attach(source, context);
    g_source_unref(source);
}

// Each test gets a private context, pushed as the thread-default one, so
// that the test can destroy it the way an application shutting down would.
class glib_fixture {
public:
    glib_fixture() : context_(g_main_context_new()) { g_main_context_push_thread_default(context_); }
    ~glib_fixture() {
        if (context_) destroy_loop();
    }

    template <class Done, class F>
    trellis::guest_run start(const trellis::run_options& options, Done done, F fn) {
        run_.emplace(trellis::glib::start_guest_run(context_, options, std::move(done), std::move(fn)));
        return *run_;
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_glib_until(context_, pred, timeout);
    }
    // One iteration of the context, without waiting.
    void iterate_once() { g_main_context_iteration(context_, FALSE); }
    void call_soon(std::function<void()> fn) { attach_callback(context_, g_idle_source_new(), std::move(fn)); }
    void call_later(std::chrono::milliseconds delay, std::function<void()> fn) {
        attach_callback(context_, g_timeout_source_new(static_cast<guint>(delay.count())), std::move(fn));
    }
    // An application shutting down: the context's last reference goes, and
    // with it every source attached to it.
    void destroy_loop() {
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(std::exchange(context_, nullptr));
    }
    GMainContext* context() const noexcept { return context_; }

private:
    GMainContext* context_;
    std::optional<trellis::guest_run> run_;
};

// ---- A small GObject type with a property and two signals. ----

struct test_pinger {
    GObject parent;
    int count;
};
struct test_pingerClass {  // the name G_DEFINE_TYPE expects
    GObjectClass parent_class;
};

G_DEFINE_TYPE(test_pinger, test_pinger, G_TYPE_OBJECT)

enum { prop_count = 1 };

void test_pinger_init(test_pinger* self) { self->count = 0; }

void test_pinger_class_init(test_pingerClass* klass) {
    auto* object_class = G_OBJECT_CLASS(klass);
    object_class->set_property = [](GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
        if (id == prop_count)
            reinterpret_cast<test_pinger*>(object)->count = g_value_get_int(value);
        else
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    };
    object_class->get_property = [](GObject* object, guint id, GValue* value, GParamSpec* pspec) {
        if (id == prop_count)
            g_value_set_int(value, reinterpret_cast<test_pinger*>(object)->count);
        else
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    };
    g_object_class_install_property(object_class, prop_count,
                                    g_param_spec_int("count", "count", "a counter", 0, 1000, 0, G_PARAM_READWRITE));
    // "pinged" has no argument; "bumped" carries an int and a string.
    g_signal_new("pinged", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 0);
    g_signal_new("bumped", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 2,
                 G_TYPE_INT, G_TYPE_STRING);
}

// A pinger that tests unref at the end unless they disposed of it.
class pinger_ref {
public:
    pinger_ref() : object_(G_OBJECT(g_object_new(test_pinger_get_type(), nullptr))) {}
    ~pinger_ref() {
        if (object_) g_object_unref(object_);
    }
    GObject* get() const noexcept { return object_; }
    void release() { g_object_unref(std::exchange(object_, nullptr)); }
    bool has_handlers(const char* signal) const {
        return g_signal_has_handler_pending(object_, g_signal_lookup(signal, test_pinger_get_type()), 0, FALSE);
    }

private:
    GObject* object_;
};

// Schedules fn on the thread-default context (the one the run is on).
void on_host_soon(std::function<void()> fn) {
    attach_callback(g_main_context_get_thread_default(), g_idle_source_new(), std::move(fn));
}

// A private thread-default context for the tests below.
class GlibAdapter : public ::testing::Test {
protected:
    glib_fixture loop;
    pinger_ref pinger;
};

// ---- Starting runs. ----

TEST_F(GlibAdapter, RunReturnsTheMainTasksValue) {
    EXPECT_EQ(trellis::glib::run([]() -> task<int> {
                  co_await trellis::sleep(1ms);
                  co_return 42;
              }),
              42);
}

TEST_F(GlibAdapter, RunRethrowsTheMainTasksError) {
    EXPECT_THROW(trellis::glib::run([]() -> task<> {
                     co_await trellis::checkpoint();
                     throw std::out_of_range("bad");
                 }),
                 std::out_of_range);
}

TEST_F(GlibAdapter, RunKeepsServingOtherSourcesOnTheContext) {
    bool host_callback_ran = false;
    trellis::glib::run([&]() -> task<> {
        trellis::event ev;
        on_host_soon([&] {
            host_callback_ran = true;
            ev.set();
        });
        co_await ev.wait();
    });
    EXPECT_TRUE(host_callback_ran);
}

// GLib gives each thread its own context: runs on several threads, each on
// its thread's context, go on independently (and at the same time).
// (Both I/O modes: in host-native mode each context watches its own run's
// epoll fd.)
void run_on_several_threads(trellis::guest_io_mode mode) {
    constexpr int n_threads = 3;
    int results[n_threads] = {};
    std::vector<std::thread> threads;
    for (int i = 0; i < n_threads; ++i) {
        threads.emplace_back([i, mode, &results] {
            GMainContext* context = g_main_context_new();
            g_main_context_push_thread_default(context);
            trellis::run_options options;
            options.guest_io = mode;
            results[i] = trellis::glib::run(options, conformance::five_sleeps_then_id, i);
            g_main_context_pop_thread_default(context);
            g_main_context_unref(context);
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < n_threads; ++i) EXPECT_EQ(results[i], i * 100 + 5);
}

TEST(GlibAdapterThreads, RunsOnSeveralThreadsEachOnItsOwnContextRunIndependently) {
    run_on_several_threads(trellis::guest_io_mode::worker_thread);
}

TEST(GlibAdapterThreads, HostNativeRunsOnSeveralThreadsEachOnItsOwnContextRunIndependently) {
    run_on_several_threads(trellis::guest_io_mode::host_native);
}

TEST_F(GlibAdapter, StartGuestRunWithoutAContextUsesTheThreadDefaultOne) {
    std::optional<int> value;
    trellis::glib::start_guest_run([&](trellis::outcome<int> o) { value = o.unwrap(); },
                                   []() -> task<int> { co_return 7; });
    // Only the private thread-default context is iterated here.
    EXPECT_TRUE(loop.run_until([&] { return value.has_value(); }, 2000ms));
    EXPECT_EQ(value.value_or(0), 7);
}

TEST_F(GlibAdapter, StartingASecondRunOnTheSameThreadThrowsRunError) {
    bool done = false;
    trellis::glib::start_guest_run(loop.context(), [&](trellis::outcome<void> o) { o.unwrap(); done = true; },
                                   []() -> task<> { co_await trellis::sleep(1ms); });
    EXPECT_THROW(trellis::glib::start_guest_run(loop.context(), [](trellis::outcome<void>) {},
                                                []() -> task<> { co_return; }),
                 trellis::run_error);
    EXPECT_TRUE(loop.run_until([&] { return done; }, 2000ms));
}

TEST_F(GlibAdapter, BusyRunLetsIdleSourcesRun) {
    bool idle_ran = false;
    long checkpoints = trellis::glib::run([&]() -> task<long> {
        on_host_soon([&] { idle_ran = true; });  // G_PRIORITY_DEFAULT_IDLE
        long n = 0;
        while (!idle_ran && n < 50'000'000) {
            co_await trellis::checkpoint();
            ++n;
        }
        co_return n;
    });
    EXPECT_TRUE(idle_ran);
    EXPECT_LT(checkpoints, 50'000'000);
}

// ---- wait_signal. ----

TEST_F(GlibAdapter, WaitSignalReturnsOnceTheSignalIsEmitted) {
    trellis::glib::run([&]() -> task<> {
        on_host_soon([&] { g_signal_emit_by_name(pinger.get(), "pinged"); });
        co_await trellis::glib::wait_signal(pinger.get(), "pinged");
    });
    EXPECT_FALSE(pinger.has_handlers("pinged"));
}

TEST_F(GlibAdapter, WaitSignalReturnsTheSignalsArguments) {
    auto [number, text] = trellis::glib::run([&]() -> task<std::tuple<int, std::string>> {
        on_host_soon([&] { g_signal_emit_by_name(pinger.get(), "bumped", 7, "seven"); });
        co_return co_await trellis::glib::wait_signal<int, std::string>(pinger.get(), "bumped");
    });
    EXPECT_EQ(number, 7);
    EXPECT_EQ(text, "seven");
}

TEST_F(GlibAdapter, WaitSignalSeesAPropertyNotificationByDetailedName) {
    std::string property = trellis::glib::run([&]() -> task<std::string> {
        on_host_soon([&] { g_object_set(pinger.get(), "count", 5, nullptr); });
        GParamSpec* spec = co_await trellis::glib::wait_signal<GParamSpec*>(pinger.get(), "notify::count");
        co_return g_param_spec_get_name(spec);
    });
    EXPECT_EQ(property, "count");
    EXPECT_EQ(reinterpret_cast<test_pinger*>(pinger.get())->count, 5);
}

TEST_F(GlibAdapter, WaitSignalIgnoresArgumentsWhenNoTypesAreNamed) {
    trellis::glib::run([&]() -> task<> {
        on_host_soon([&] { g_signal_emit_by_name(pinger.get(), "bumped", 1, "one"); });
        co_await trellis::glib::wait_signal(pinger.get(), "bumped");
    });
    EXPECT_FALSE(pinger.has_handlers("bumped"));
}

TEST_F(GlibAdapter, CancellingAWaitDisconnectsTheHandler) {
    trellis::run_options options;
    options.clock = std::make_shared<trellis::testing::mock_clock>(0.0, 0ms);
    bool finished = trellis::glib::run(options, [&]() -> task<bool> {
        co_return co_await trellis::move_on_after(
            1s, [&]() -> task<> { co_await trellis::glib::wait_signal(pinger.get(), "pinged"); });
    });
    EXPECT_FALSE(finished);
    EXPECT_FALSE(pinger.has_handlers("pinged"));
}

TEST_F(GlibAdapter, WaitInACancelledScopeThrowsCancelledWithoutConnecting) {
    bool reached_after = false;
    trellis::glib::run([&]() -> task<> {
        trellis::cancel_scope scope;
        scope.cancel();
        co_await scope.run([&]() -> task<> {
            co_await trellis::glib::wait_signal(pinger.get(), "pinged");
            reached_after = true;
        });
        EXPECT_TRUE(scope.cancelled_caught());
    });
    EXPECT_FALSE(reached_after);
    EXPECT_FALSE(pinger.has_handlers("pinged"));
}

TEST_F(GlibAdapter, DisposingTheInstanceWhileWaitingRaisesClosedResourceError) {
    EXPECT_THROW(trellis::glib::run([&]() -> task<> {
                     on_host_soon([&] { pinger.release(); });  // the last reference
                     co_await trellis::glib::wait_signal(pinger.get(), "pinged");
                 }),
                 trellis::closed_resource_error);
}

TEST_F(GlibAdapter, WaitSignalRejectsAnUnknownSignalName) {
    EXPECT_THROW(trellis::glib::run([&]() -> task<> { co_await trellis::glib::wait_signal(pinger.get(), "nope"); }),
                 trellis::run_error);
}

TEST_F(GlibAdapter, WaitSignalRejectsArgumentTypesThatDoNotMatch) {
    EXPECT_THROW(trellis::glib::run([&]() -> task<> {
                     co_await trellis::glib::wait_signal<std::string, int>(pinger.get(), "bumped");
                 }),
                 trellis::run_error);
}

TEST_F(GlibAdapter, WaitSignalRejectsTheWrongNumberOfArguments) {
    EXPECT_THROW(
        trellis::glib::run([&]() -> task<> { co_await trellis::glib::wait_signal<int>(pinger.get(), "bumped"); }),
        trellis::run_error);
}

TEST_F(GlibAdapter, EmissionOnAnotherThreadIsDeliveredOnTheRunThread) {
    const auto run_thread = std::this_thread::get_id();
    std::thread::id resumed_on;
    std::thread emitter;
    int value = trellis::glib::run([&]() -> task<int> {
        emitter = std::thread([&] {
            while (!pinger.has_handlers("bumped")) std::this_thread::sleep_for(1ms);
            g_signal_emit_by_name(pinger.get(), "bumped", 9, "nine");
        });
        auto [number, text] = co_await trellis::glib::wait_signal<int, std::string>(pinger.get(), "bumped");
        resumed_on = std::this_thread::get_id();
        co_return number;
    });
    emitter.join();
    EXPECT_EQ(value, 9);
    EXPECT_EQ(resumed_on, run_thread);
}

}  // namespace glib_host_test

namespace conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(GlibHost, GuestConformance, ::testing::Types<glib_host_test::glib_fixture>);
// The same suite with host-native I/O waiting (run_options::guest_io).
INSTANTIATE_TYPED_TEST_SUITE_P(GlibHostNative, GuestConformance, ::testing::Types<native_mode<glib_host_test::glib_fixture>>);
}

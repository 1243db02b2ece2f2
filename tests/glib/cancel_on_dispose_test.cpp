// glib::cancel_on_dispose and glib::run_while_alive on a real GLib main loop.
#include <gio/gio.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>

#include <trellis/glib/cancel_on_dispose.hpp>
#include <trellis/glib/gtest.hpp>
#include <trellis/testing/wait_all_tasks_blocked.hpp>
#include <trellis/trellis.hpp>

using trellis::task;

namespace {
GObject* new_object() { return G_OBJECT(g_simple_action_new("watched", nullptr)); }
}  // namespace

TRELLIS_GLIB_TEST(GlibCancelOnDispose, DisposingTheObjectCancelsTheScope) {
    GObject* object = new_object();
    trellis::cancel_scope scope;
    trellis::glib::cancel_on_dispose guard(object, scope);
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { co_await scope.run([]() -> task<> { co_await trellis::sleep_forever(); }); });
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_FALSE(scope.cancel_called());
        g_object_unref(object);
    };
    co_await trellis::open_nursery(body);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_GLIB_TEST(GlibCancelOnDispose, ExplicitDisposeWhileReferencedCancelsToo) {
    GObject* object = new_object();
    trellis::cancel_scope scope;
    trellis::glib::cancel_on_dispose guard(object, scope);
    g_object_run_dispose(object);  // as gtk_window_destroy does, with references still held
    EXPECT_TRUE(scope.cancel_called());
    g_object_unref(object);
    co_return;
}

TRELLIS_GLIB_TEST(GlibCancelOnDispose, DestroyingTheGuardStopsWatching) {
    GObject* object = new_object();
    trellis::cancel_scope scope;
    { trellis::glib::cancel_on_dispose guard(object, scope); }
    g_object_unref(object);
    EXPECT_FALSE(scope.cancel_called());
    co_return;
}

TRELLIS_GLIB_TEST(GlibCancelOnDispose, ANullObjectCancelsAtOnce) {
    trellis::cancel_scope scope;
    trellis::glib::cancel_on_dispose guard(nullptr, scope);
    EXPECT_TRUE(scope.cancel_called());
    co_return;
}

TRELLIS_GLIB_TEST(GlibCancelOnDispose, DisposalOnAnotherThreadCancelsThroughTheRun) {
    GObject* object = new_object();
    trellis::cancel_scope scope;
    trellis::glib::cancel_on_dispose guard(object, scope);
    std::thread disposer([object] { g_object_unref(object); });
    disposer.join();
    co_await scope.run([]() -> task<> { co_await trellis::sleep_forever(); });
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_GLIB_TEST(GlibRunWhileAlive, ReturnsTheValueWhileTheObjectLives) {
    GObject* object = new_object();
    std::optional<int> value = co_await trellis::glib::run_while_alive(object, []() -> task<int> { co_return 7; });
    EXPECT_EQ(value, 7);
    g_object_unref(object);
}

TRELLIS_GLIB_TEST(GlibRunWhileAlive, ReturnsFalseWhenTheObjectIsDisposedMeanwhile) {
    GObject* object = new_object();
    std::optional<bool> finished;
    auto work = []() -> task<> { co_await trellis::sleep_forever(); };
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { finished = co_await trellis::glib::run_while_alive(object, work); });
        co_await trellis::testing::wait_all_tasks_blocked();
        g_object_unref(object);
    };
    co_await trellis::open_nursery(body);
    EXPECT_EQ(finished, false);
}

TRELLIS_GLIB_TEST(GlibCancelOnDispose, APointerThatIsNotAGObjectRaisesRunError) {
    GParamSpec* spec = g_param_spec_int("n", "n", "not a GObject", 0, 1, 0, G_PARAM_READWRITE);
    g_param_spec_ref_sink(spec);
    trellis::cancel_scope scope;
    std::string message;
    try {
        trellis::glib::cancel_on_dispose guard(reinterpret_cast<GObject*>(spec), scope);
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("trellis::glib::cancel_on_dispose"), std::string::npos) << message;
    g_param_spec_unref(spec);
    co_return;
}

TEST(GlibCancelOnDispose, OutsideARunRaisesRunErrorNamingCancelOnDispose) {
    GObject* object = new_object();
    trellis::cancel_scope scope;
    std::string message;
    try {
        trellis::glib::cancel_on_dispose guard(object, scope);
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_EQ(message.rfind("trellis::glib::cancel_on_dispose: called outside a trellis run", 0), 0u) << message;
    g_object_unref(object);
}

// glib::signal_channel on a real GLib main loop, with GIO's own GObjects:
// GListStore's "items-changed" (three guint arguments) and GSimpleAction's
// "activate".
#include <gio/gio.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include <trellis/glib/gtest.hpp>
#include <trellis/glib/signal_channel.hpp>
#include <trellis/testing/wait_all_tasks_blocked.hpp>
#include <trellis/trellis.hpp>

using trellis::task;
using changed = std::tuple<guint, guint, guint>;  // position, removed, added

namespace {

// A GListStore of GSimpleActions (any GObject type would do).
GListStore* new_store() { return g_list_store_new(G_TYPE_SIMPLE_ACTION); }

void append_one(GListStore* store) {
    GSimpleAction* item = g_simple_action_new("item", nullptr);
    g_list_store_append(store, item);
    g_object_unref(item);
}

// The message of the run_error that f() raises; "" if none.
template <class F>
std::string run_error_message(F f) {
    try {
        f();
    } catch (const trellis::run_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TRELLIS_GLIB_TEST(GlibSignalChannel, KeepsEveryEmissionMadeBeforeTheTaskReceives) {
    GListStore* store = new_store();
    auto changes = trellis::glib::signal_channel<guint, guint, guint>(store, "items-changed");
    append_one(store);
    append_one(store);
    append_one(store);
    EXPECT_EQ(co_await changes.receive(), changed(0, 0, 1));
    EXPECT_EQ(co_await changes.receive(), changed(1, 0, 1));
    EXPECT_EQ(co_await changes.receive(), changed(2, 0, 1));
    g_object_unref(store);
}

TRELLIS_GLIB_TEST(GlibSignalChannel, WithoutTypesEachEmissionIsAnEmptyTuple) {
    GSimpleAction* action = g_simple_action_new("go", nullptr);
    auto activations = trellis::glib::signal_channel(action, "activate");
    g_action_activate(G_ACTION(action), nullptr);
    g_action_activate(G_ACTION(action), nullptr);
    EXPECT_EQ(activations.statistics().current_buffer_used, 2u);
    EXPECT_EQ(co_await activations.receive(), std::tuple<>());
    EXPECT_EQ(co_await activations.receive(), std::tuple<>());
    g_object_unref(action);
}

TRELLIS_GLIB_TEST(GlibSignalChannel, DisposingTheInstanceEndsTheChannelAfterWhatWasBuffered) {
    GListStore* store = new_store();
    auto changes = trellis::glib::signal_channel<guint, guint, guint>(store, "items-changed");
    append_one(store);
    g_object_unref(store);  // disposed and finalized
    std::optional<changed> first = co_await changes.next();
    EXPECT_TRUE(first.has_value());
    std::optional<changed> end = co_await changes.next();
    EXPECT_FALSE(end.has_value());
}

TRELLIS_GLIB_TEST(GlibSignalChannel, AWaitingReceiverIsWokenByTheDisposal) {
    GListStore* store = new_store();
    auto changes = trellis::glib::signal_channel<guint, guint, guint>(store, "items-changed");
    std::optional<changed> got{changed(9, 9, 9)};
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { got = co_await changes.next(); });
        co_await trellis::testing::wait_all_tasks_blocked();
        g_object_unref(store);
    };
    co_await trellis::open_nursery(body);
    EXPECT_FALSE(got.has_value());
}

TRELLIS_GLIB_TEST(GlibSignalChannel, OverflowBreaksTheChannelAfterTheBufferedEmissions) {
    GListStore* store = new_store();
    auto changes = trellis::glib::signal_channel<guint, guint, guint>(store, "items-changed", 2);
    append_one(store);
    append_one(store);
    append_one(store);  // a third while two wait: the channel breaks
    EXPECT_EQ(co_await changes.receive(), changed(0, 0, 1));
    EXPECT_EQ(co_await changes.receive(), changed(1, 0, 1));
    std::string message;
    try {
        co_await changes.next();
    } catch (const trellis::broken_resource_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("trellis::glib::signal_channel"), std::string::npos) << message;
    EXPECT_NE(message.find("more than 2"), std::string::npos) << message;
    g_object_unref(store);
}

TRELLIS_GLIB_TEST(GlibSignalChannel, ClosingTheReceiverDisconnectsFromTheSignal) {
    GSimpleAction* action = g_simple_action_new("go", nullptr);
    const guint id = g_signal_lookup("activate", G_TYPE_SIMPLE_ACTION);
    {
        auto activations = trellis::glib::signal_channel(action, "activate");
        EXPECT_TRUE(g_signal_has_handler_pending(action, id, 0, FALSE));
    }
    EXPECT_FALSE(g_signal_has_handler_pending(action, id, 0, FALSE));
    g_action_activate(G_ACTION(action), nullptr);  // nobody listens: nothing happens
    co_await trellis::checkpoint();
    g_object_unref(action);
}

TRELLIS_GLIB_TEST(GlibSignalChannel, EmissionsOnAnotherThreadArriveOnTheRunsThreadInOrder) {
    GListStore* store = new_store();
    auto changes = trellis::glib::signal_channel<guint, guint, guint>(store, "items-changed");
    const std::thread::id run_thread = std::this_thread::get_id();
    std::thread emitter([store] {
        for (guint k = 0; k < 3; ++k) g_signal_emit_by_name(store, "items-changed", k, 0u, 1u);
    });
    for (guint k = 0; k < 3; ++k) EXPECT_EQ(co_await changes.receive(), changed(k, 0, 1));
    EXPECT_EQ(std::this_thread::get_id(), run_thread);
    emitter.join();
    g_object_unref(store);
}

TRELLIS_GLIB_TEST(GlibSignalChannel, MisuseRaisesRunErrorNamingSignalChannel) {
    GListStore* store = new_store();
    const std::string no_signal =
        run_error_message([&] { (void)trellis::glib::signal_channel(store, "no-such-signal"); });
    EXPECT_NE(no_signal.find("trellis::glib::signal_channel: no signal \"no-such-signal\""), std::string::npos)
        << no_signal;
    const std::string wrong_types =
        run_error_message([&] { (void)trellis::glib::signal_channel<std::string>(store, "items-changed"); });
    EXPECT_NE(wrong_types.find("has 3 argument(s)"), std::string::npos) << wrong_types;
    const std::string zero =
        run_error_message([&] { (void)trellis::glib::signal_channel(store, "items-changed", 0); });
    EXPECT_NE(zero.find("capacity 0"), std::string::npos) << zero;
    GParamSpec* not_an_object = g_param_spec_int("n", "n", "a GTypeInstance, not a GObject", 0, 1, 0, G_PARAM_READWRITE);
    g_param_spec_ref_sink(not_an_object);
    const std::string bad =
        run_error_message([&] { (void)trellis::glib::signal_channel(not_an_object, "items-changed"); });
    EXPECT_NE(bad.find("must be a GObject"), std::string::npos) << bad;
    g_param_spec_unref(not_an_object);
    g_object_unref(store);
    co_return;
}

TEST(GlibSignalChannel, OutsideARunRaisesRunErrorNamingSignalChannel) {
    GListStore* store = new_store();
    const std::string message = run_error_message([&] { (void)trellis::glib::signal_channel(store, "items-changed"); });
    EXPECT_EQ(message.rfind("trellis::glib::signal_channel: called outside a trellis run", 0), 0u) << message;
    g_object_unref(store);
}

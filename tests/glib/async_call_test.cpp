// glib::async_call: GIO operations awaited with trellis semantics, on a
// real GLib main loop (TRELLIS_GLIB_TEST), with real files and sockets.
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <string>

#include <trellis/glib/async_call.hpp>
#include <trellis/glib/gtest.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/wait_all_tasks_blocked.hpp>
#include <trellis/trellis.hpp>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// A file with known contents, removed at the end of the test.
class temp_file {
public:
    explicit temp_file(const std::string& contents) {
        gchar* name = nullptr;
        const int fd = g_file_open_tmp("trellis-async-call-XXXXXX", &name, nullptr);
        close(fd);
        path_ = name;
        g_free(name);
        g_file_set_contents(path_.c_str(), contents.data(), static_cast<gssize>(contents.size()), nullptr);
        file_ = g_file_new_for_path(path_.c_str());
    }
    ~temp_file() {
        g_object_unref(file_);
        g_unlink(path_.c_str());
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    GFile* file() const { return file_; }

private:
    std::string path_;
    GFile* file_;
};

// A listening socket on loopback that nobody connects to: accepting on it
// waits until cancelled.
GSocketListener* idle_loopback_listener() {
    GSocketListener* listener = g_socket_listener_new();
    GInetAddress* loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress* address = g_inet_socket_address_new(loopback, 0);
    g_socket_listener_add_address(listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                  nullptr, nullptr);
    g_object_unref(address);
    g_object_unref(loopback);
    return listener;
}

}  // namespace

TRELLIS_GLIB_TEST(GlibAsyncCall, ReturnsWhatTheFinishFunctionReturns) {
    temp_file f("hello from GIO");
    GFileInputStream* in =
        co_await trellis::glib::async_call(g_file_read_async, g_file_read_finish, f.file(), G_PRIORITY_DEFAULT);
    EXPECT_NE(in, nullptr);
    GInputStream* stream = G_INPUT_STREAM(in);
    GBytes* bytes = co_await trellis::glib::async_call(g_input_stream_read_bytes_async, g_input_stream_read_bytes_finish,
                                                       stream, gsize{64}, G_PRIORITY_DEFAULT);
    gsize size = 0;
    const auto* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    EXPECT_EQ(std::string(data, size), "hello from GIO");
    g_bytes_unref(bytes);
    g_object_unref(in);
}

TRELLIS_GLIB_TEST(GlibAsyncCall, LambdasServeFinishFunctionsWithMoreOutParameters) {
    temp_file f("contents");
    char* contents = nullptr;
    gsize length = 0;
    GFile* file = f.file();
    auto start = [file](GCancellable* c, GAsyncReadyCallback done, gpointer data) {
        g_file_load_contents_async(file, c, done, data);
    };
    auto finish = [file, &contents, &length](GAsyncResult* r, GError** e) {
        return g_file_load_contents_finish(file, r, &contents, &length, nullptr, e);
    };
    const gboolean ok = co_await trellis::glib::async_call(start, finish);
    EXPECT_TRUE(ok);
    EXPECT_EQ(std::string(contents, length), "contents");
    g_free(contents);
}

TRELLIS_GLIB_TEST(GlibAsyncCall, AFailureRaisesGlibErrorWithDomainCodeAndMessage) {
    GFile* missing = g_file_new_for_path("/nonexistent/trellis/no-such-file");
    bool raised = false;
    try {
        co_await trellis::glib::async_call(g_file_read_async, g_file_read_finish, missing, G_PRIORITY_DEFAULT);
    } catch (const trellis::glib::error& e) {
        raised = true;
        EXPECT_EQ(e.domain(), G_IO_ERROR);
        EXPECT_EQ(e.code(), G_IO_ERROR_NOT_FOUND);
        EXPECT_TRUE(e.matches(G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
        EXPECT_NE(std::string(e.what()).find("no-such-file"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
    g_object_unref(missing);
}

TRELLIS_GLIB_TEST(GlibAsyncCall, CancellingTheScopeCancelsTheGioOperationAndRaisesCancelled) {
    GSocketListener* listener = idle_loopback_listener();
    GCancellable* seen = nullptr;
    bool finished = false;
    auto start = [listener, &seen](GCancellable* c, GAsyncReadyCallback done, gpointer data) {
        seen = c;
        g_object_ref(seen);
        g_socket_listener_accept_async(listener, c, done, data);
    };
    auto finish = [listener, &finished](GAsyncResult* r, GError** e) {
        finished = true;
        return g_socket_listener_accept_finish(listener, r, nullptr, e);
    };
    trellis::cancel_scope scope;
    auto accept = [&]() -> task<> { co_await trellis::glib::async_call(start, finish); };
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> { co_await scope.run(accept); });
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_FALSE(finished);
        scope.cancel();
    };
    co_await trellis::open_nursery(body);
    EXPECT_TRUE(scope.cancelled_caught());
    // The task waited for GIO to report the cancellation.
    EXPECT_TRUE(finished);
    EXPECT_TRUE(seen && g_cancellable_is_cancelled(seen));
    if (seen) g_object_unref(seen);
    g_socket_listener_close(listener);
    g_object_unref(listener);
}

TRELLIS_GLIB_TEST(GlibAsyncCall, AnAlreadyCancelledTaskDoesNotStartTheOperation) {
    bool started = false;
    auto start = [&started](GCancellable*, GAsyncReadyCallback, gpointer) { started = true; };
    auto finish = [](GAsyncResult*, GError**) { return TRUE; };
    trellis::cancel_scope scope;
    scope.cancel();
    auto call = [&]() -> task<> { co_await trellis::glib::async_call(start, finish); };
    co_await scope.run(call);
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_FALSE(started);
}

TRELLIS_TEST(GlibAsyncCall, OutsideARunOnTheGlibContextRaisesRunErrorSayingWhere) {
    bool started = false;
    auto start = [&started](GCancellable*, GAsyncReadyCallback, gpointer) { started = true; };
    auto finish = [](GAsyncResult*, GError**) { return TRUE; };
    std::string message;
    try {
        co_await trellis::glib::async_call(start, finish);
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("trellis::glib::async_call"), std::string::npos) << message;
    EXPECT_NE(message.find("glib::run"), std::string::npos) << message;
    EXPECT_FALSE(started);
}

TEST(GlibAsyncCall, AnAbandonedRunCancelsTheOperationInFlightAndFreesItsStateWhenGioLetsGo) {
    GMainContext* context = g_main_context_new();
    g_main_context_push_thread_default(context);
    GSocketListener* listener = idle_loopback_listener();
    GCancellable* seen = nullptr;  // a weak pointer: null once the cancellable is finalized
    bool finish_called = false;
    auto start = [listener, &seen](GCancellable* c, GAsyncReadyCallback done, gpointer data) {
        seen = c;
        g_object_add_weak_pointer(G_OBJECT(seen), reinterpret_cast<gpointer*>(&seen));
        g_socket_listener_accept_async(listener, c, done, data);
    };
    auto finish = [listener, &finish_called](GAsyncResult* r, GError** e) {
        finish_called = true;
        return g_socket_listener_accept_finish(listener, r, nullptr, e);
    };
    bool blocked = false;
    auto main_task = [&]() -> task<> {
        auto call = [&]() -> task<> { co_await trellis::glib::async_call(start, finish); };
        auto body = [&](trellis::nursery& n) -> task<> {
            n.start_soon(call);
            co_await trellis::testing::wait_all_tasks_blocked();
            blocked = true;
        };
        co_await trellis::open_nursery(body);
    };
    trellis::guest_run run = trellis::glib::start_guest_run(context, [](trellis::outcome<void>) {}, main_task);
    while (!blocked) g_main_context_iteration(context, TRUE);
    testing::internal::CaptureStderr();
    run.host_gone();  // the host says its loop is going away: the run is abandoned
    const std::string warning = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(run.finished());
    EXPECT_NE(warning.find("abandoned"), std::string::npos) << warning;
    // The operation was cancelled, and GIO still holds the cancellable
    // (with the operation's state) until it reports back.
    ASSERT_NE(seen, nullptr);
    EXPECT_TRUE(g_cancellable_is_cancelled(seen));
    for (int k = 0; k < 1000 && seen; ++k) g_main_context_iteration(context, FALSE);
    EXPECT_EQ(seen, nullptr) << "the operation's state was not released";
    EXPECT_FALSE(finish_called);  // nobody was left to take the result
    g_socket_listener_close(listener);
    g_object_unref(listener);
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
}

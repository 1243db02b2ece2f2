// Test helper: iterates a real GLib main context until a condition holds,
// for the GLib guest tests.
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>

namespace guest_test {

// Iterates `context` until pred() holds or `timeout` passes; returns pred().
inline bool run_glib_until(GMainContext* context, const std::function<bool()>& pred,
                           std::chrono::milliseconds timeout) {
    bool timed_out = false;
    GSource* timer = g_timeout_source_new(static_cast<guint>(timeout.count()));
    g_source_set_callback(
        timer,
        [](gpointer flag) -> gboolean {
            *static_cast<bool*>(flag) = true;
            return G_SOURCE_REMOVE;
        },
        &timed_out, nullptr);
    g_source_attach(timer, context);
    while (!pred() && !timed_out) g_main_context_iteration(context, TRUE);
    g_source_destroy(timer);
    g_source_unref(timer);
    return pred();
}

}  // namespace guest_test

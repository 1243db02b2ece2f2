// glib::signal_channel's connection: a GClosure with our own marshaller on
// the signal (so any signature can be read from its GValues), and a weak
// reference on the instance to learn of its disposal. The typed half (the
// header) turns each emission's GValues into a delivery; this half runs the
// delivery on the run's thread.
//
// Lifetime: the link is shared by the closure (which GObject may keep
// briefly after the handler is disconnected, during an emission in
// progress on another thread) and by the disconnect function, which the
// channel's buffer holds until it stops listening. The weak reference is
// removed by that disconnect, so while it is in place the link is alive.

#include <atomic>
#include <memory>
#include <thread>

#include "signal_lookup.hpp"
#include "trellis/glib/signal_channel.hpp"
#include "trellis/token.hpp"

namespace trellis::glib::detail {

namespace {

struct emission_link : std::enable_shared_from_this<emission_link> {
    emission_capture capture;
    std::function<void()> gone;
    GObject* instance = nullptr;
    gulong handler = 0;  // run's thread
    trellis::token token = current_token();
    std::thread::id run_thread = std::this_thread::get_id();
    std::atomic<bool> instance_gone{false};  // the weak reference was notified
    bool connected = true;                   // run's thread

    // Run's thread. Undoes the connection while the instance still lives.
    void disconnect() noexcept {
        if (!connected) return;
        connected = false;
        if (instance_gone.load()) return;
        if (handler && g_signal_handler_is_connected(instance, handler)) g_signal_handler_disconnect(instance, handler);
        handler = 0;
        g_object_weak_unref(instance, &on_weak_notify, this);
    }

    static void on_weak_notify(gpointer data, GObject*) noexcept {
        handed_off.load(std::memory_order_acquire);
        // Keep the link alive through gone(), which may drop the last
        // other reference.
        std::shared_ptr<emission_link> self = static_cast<emission_link*>(data)->shared_from_this();
        self->instance_gone = true;  // GObject drops the weak reference itself
        // GObject has destroyed the instance's handlers before notifying.
        on_run_thread(self->run_thread, self->token, [self] {
            self->connected = false;
            self->gone();
        });
    }

    static void marshal(GClosure* closure, GValue*, guint n_values, const GValue* values, gpointer,
                        gpointer) noexcept {
        handed_off.load(std::memory_order_acquire);
        auto& self = *static_cast<std::shared_ptr<emission_link>*>(closure->data);
        if (n_values == 0) return;
        std::function<void()> delivery;
        try {
            delivery = self->capture(values + 1);
        } catch (...) {
            return;  // out of memory copying an argument: this emission is lost
        }
        on_run_thread(self->run_thread, self->token, std::move(delivery));
    }

    static void free_closure_data(gpointer data, GClosure*) noexcept {
        delete static_cast<std::shared_ptr<emission_link>*>(data);
    }
};

}  // namespace

std::function<void()> connect_emissions(gpointer instance, const std::string& signal, const signal_shape& shape,
                                        emission_capture capture, std::function<void()> gone) {
    check_signal(instance, signal, shape, "trellis::glib::signal_channel");
    auto link = std::make_shared<emission_link>();
    link->capture = std::move(capture);
    link->gone = std::move(gone);
    link->instance = G_OBJECT(instance);

    GClosure* closure = g_closure_new_simple(sizeof(GClosure), new std::shared_ptr<emission_link>(link));
    g_closure_add_finalize_notifier(closure, closure->data, &emission_link::free_closure_data);
    g_closure_set_marshal(closure, &emission_link::marshal);

    handed_off.fetch_add(1, std::memory_order_release);
    // The handler owns the (floating) closure from here.
    link->handler = g_signal_connect_closure(link->instance, signal.c_str(), closure, FALSE);
    g_object_weak_ref(link->instance, &emission_link::on_weak_notify, link.get());
    return [link] { link->disconnect(); };
}

}  // namespace trellis::glib::detail

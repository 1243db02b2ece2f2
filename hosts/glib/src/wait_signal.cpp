// trellis::glib::wait_signal: one emission of a GObject signal, awaited by
// a task.
//
// The wait connects a GClosure with our own marshaller (so any signature
// can be read from its GValues) and a weak reference on the instance, then
// blocks in wait_task_rescheduled. Whichever comes first ends the wait: the
// emission (values stored, task rescheduled), the instance's dispose
// (closed_resource_error), or cancellation (the abort callback). Each path
// disconnects the handler and drops the weak reference, unless the instance
// is already being disposed.
//
// Emissions normally happen on the run's thread. One on another thread is
// forwarded through the run's token; the arguments are read on the
// emitting thread, while they are valid.

#include <atomic>
#include <thread>

#include "signal_lookup.hpp"
#include "trellis/glib.hpp"
#include "trellis/token.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis::glib::detail {

namespace {

// Shared by the waiting frame and the closure (which may outlive the wait
// by the length of an emission in progress on another thread).
struct wait_state {
    signal_shape shape;
    std::string name;
    GObject* instance = nullptr;
    gulong handler = 0;
    trellis::token token;
    std::thread::id run_thread = std::this_thread::get_id();
    lowlevel::task_handle task;
    std::atomic<bool> fired{false};          // an emission or the dispose came first
    std::atomic<bool> instance_gone{false};  // the weak reference was notified
    std::exception_ptr error;                // set before delivery
    bool finished = false;                   // run thread: woken or aborted

    explicit wait_state(signal_shape s) : shape(std::move(s)), token(current_token()) {}

    // Run thread. Undoes the connection while the instance still lives.
    void disconnect() noexcept {
        if (instance_gone.load()) return;
        if (handler) g_signal_handler_disconnect(instance, handler);
        handler = 0;
        g_object_weak_unref(instance, &on_weak_notify, this);
    }

    // Run thread: ends the wait.
    static void deliver(const std::shared_ptr<wait_state>& self) noexcept {
        if (self->finished) return;  // aborted meanwhile
        self->finished = true;
        self->disconnect();
        lowlevel::reschedule(self->task, self->error);
    }

    // Any thread: hands the end of the wait to the run's thread.
    static void deliver_from(const std::shared_ptr<wait_state>& self) noexcept {
        on_run_thread(self->run_thread, self->token, [self] { deliver(self); });
    }

    static void on_weak_notify(gpointer data, GObject* object) noexcept {
        handed_off.load(std::memory_order_acquire);
        auto* state = static_cast<wait_state*>(data);
        state->instance_gone = true;  // GObject drops the weak reference itself
        // The object still lives during this notification; on the run's
        // thread, unhook the handler now (a disposed object may linger).
        // GObject's own dispose has usually destroyed every handler before
        // it notifies weak references, and disconnecting a handler that is
        // gone makes GLib warn, so look first.
        const gulong handler = std::exchange(state->handler, 0);
        if (std::this_thread::get_id() == state->run_thread && handler &&
            g_signal_handler_is_connected(object, handler))
            g_signal_handler_disconnect(object, handler);
        if (state->fired.exchange(true)) return;
        state->error = std::make_exception_ptr(closed_resource_error(
            "trellis::glib::wait_signal: the object was disposed while waiting for \"" + state->name + "\""));
        // The closure holds the owning reference; the waiting frame keeps the closure alive.
        deliver_from(*state->self_ref);
    }

    static void marshal(GClosure* closure, GValue*, guint n_values, const GValue* values, gpointer,
                        gpointer) noexcept {
        handed_off.load(std::memory_order_acquire);
        auto& self = *static_cast<std::shared_ptr<wait_state>*>(closure->data);
        if (self->fired.exchange(true)) return;
        if (n_values > 0 && (self->shape.any_arguments || n_values - 1 == self->shape.count)) {
            try {
                self->shape.read(values + 1);
            } catch (...) {
                self->error = std::current_exception();  // e.g. out of memory copying a string
            }
        }
        deliver_from(self);
    }

    static void free_closure_data(gpointer data, GClosure*) noexcept {
        delete static_cast<std::shared_ptr<wait_state>*>(data);
    }

    std::shared_ptr<wait_state>* self_ref = nullptr;  // the closure's data
};

}  // namespace

task<> wait_one_emission(gpointer instance, std::string signal, signal_shape shape) {
    check_signal(instance, signal, shape, "trellis::glib::wait_signal");
    auto* object = G_OBJECT(instance);

    auto state = std::make_shared<wait_state>(std::move(shape));
    state->name = std::move(signal);
    state->instance = object;
    state->task = lowlevel::current_task();

    state->self_ref = new std::shared_ptr<wait_state>(state);
    GClosure* closure = g_closure_new_simple(sizeof(GClosure), state->self_ref);
    g_closure_add_finalize_notifier(closure, state->self_ref, &wait_state::free_closure_data);
    g_closure_set_marshal(closure, &wait_state::marshal);
    // Keep the closure (and so the state's owning reference) alive for the
    // whole wait, even after the handler is gone.
    g_closure_ref(closure);
    g_closure_sink(closure);
    struct closure_ref {
        GClosure* c;
        ~closure_ref() { g_closure_unref(c); }
    } keep{closure};

    handed_off.fetch_add(1, std::memory_order_release);
    state->handler = g_signal_connect_closure(object, state->name.c_str(), closure, FALSE);
    g_object_weak_ref(object, &wait_state::on_weak_notify, state.get());

    co_await lowlevel::wait_task_rescheduled([&state](const std::exception_ptr&) noexcept {
        state->finished = true;
        state->disconnect();
        return lowlevel::abort_result::succeeded;
    });
    if (state->error) std::rethrow_exception(state->error);
}

}  // namespace trellis::glib::detail

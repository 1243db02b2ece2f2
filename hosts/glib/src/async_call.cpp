// glib::async_call's engine: one GIO operation awaited by a task.
//
// The operation's state is attached to its GCancellable, which both the
// waiting task's frame and GIO's operation hold a reference on, because
// either may be the last to let go: normally GIO calls back, reschedules
// the task, and drops its reference; the frame drops its own when the task
// resumes. If the frame is destroyed first (the run was abandoned while the
// operation was in flight), it cancels the operation and lets go; GIO's
// callback, if it still comes, then finds no frame and does nothing (GIO
// frees the unclaimed result itself), and the state goes with the
// cancellable when GIO drops the operation, even if its main context is
// destroyed without calling back.
//
// Everything happens on the run's thread: GIO calls back on the
// thread-default context of the thread that started the operation, which
// run_async_operation checks is the one this thread is running.

#include <string>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"
#include "trellis/glib/async_call.hpp"
#include "trellis/task_handle.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis::glib::detail {

namespace {

struct operation {
    lowlevel::task_handle task;
    // The caller's finish function; null once the waiting frame is gone.
    const async_finish* finish = nullptr;
    // The cancellation the task was asked to raise, once the abort callback
    // has cancelled the GCancellable; raised if GIO then reports
    // G_IO_ERROR_CANCELLED.
    std::exception_ptr cancel;
};

// Where an operation's state hangs on its cancellable.
constexpr const char* operation_key = "trellis-async-call";

void delete_operation(gpointer op) noexcept { delete static_cast<operation*>(op); }

// What the finished operation raises: finish's own exception, else its
// GError (which this frees), as cancelled or as glib::error.
std::exception_ptr outcome_error(operation& op, GAsyncResult* result) noexcept {
    GError* error = nullptr;
    std::exception_ptr raised;
    try {
        (*op.finish)(result, &error);
    } catch (...) {
        raised = std::current_exception();
    }
    if (error) {
        if (!raised) {
            if (op.cancel && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                raised = op.cancel;
            } else {
                try {
                    raised = std::make_exception_ptr(glib::error(error));
                } catch (...) {
                    raised = std::current_exception();  // out of memory copying the message
                }
            }
        }
        g_error_free(error);
    }
    return raised;
}

void on_ready(GObject*, GAsyncResult* result, gpointer data) noexcept {
    auto* op = static_cast<operation*>(g_object_get_data(G_OBJECT(data), operation_key));
    if (!op->finish) return;  // the waiting frame is gone (see the file comment)
    std::exception_ptr error = outcome_error(*op, result);
    op->finish = nullptr;
    lowlevel::reschedule(op->task, std::move(error));
}

// The waiting frame's reference on the operation's cancellable (which
// carries the state). Dropping it early, with the operation still in
// flight, cancels the operation and leaves the state to GIO's reference.
struct cancellable_ref {
    GCancellable* cancellable;
    ~cancellable_ref() {
        auto* op = static_cast<operation*>(g_object_get_data(G_OBJECT(cancellable), operation_key));
        if (op->finish) {
            op->finish = nullptr;
            g_cancellable_cancel(cancellable);
        }
        g_object_unref(cancellable);
    }
};

// GIO calls back on the thread-default context as it was when the
// operation started; it must be the context this thread is running.
void check_context() {
    GMainContext* context = g_main_context_ref_thread_default();
    const bool running_it = g_main_context_is_owner(context);
    g_main_context_unref(context);
    if (!running_it)
        throw run_error(
            "trellis::glib::async_call: GIO delivers the result on this thread's thread-default main "
            "context, and this thread is not running it, so the result would never arrive; call it "
            "from a run on that context (trellis::glib::run or glib::start_guest_run)");
}

}  // namespace

task<> run_async_operation(const async_start& start, const async_finish& finish) {
    co_await trellis::checkpoint_if_cancelled();
    check_context();
    const cancellable_ref ref{g_cancellable_new()};
    auto* op = new operation{lowlevel::current_task(), &finish, nullptr};
    g_object_set_data_full(G_OBJECT(ref.cancellable), operation_key, op, &delete_operation);
    // GIO passes the cancellable back as the callback's data: it outlives
    // every callback, and the state hangs on it.
    start(ref.cancellable, &on_ready, ref.cancellable);
    co_await lowlevel::wait_task_rescheduled([op, c = ref.cancellable](const std::exception_ptr& cancel) noexcept {
        // GIO owns the operation (and any buffer it writes into) until it
        // calls back, so the task keeps waiting for that; the callback
        // raises `cancel` if the operation ends cancelled.
        op->cancel = cancel;
        g_cancellable_cancel(c);
        return lowlevel::abort_result::failed;
    });
}

}  // namespace trellis::glib::detail

// What the adapter's GObject watchers (wait_signal, signal_channel,
// cancel_on_dispose) share: checking a signal before connecting to it, and
// getting from GLib's callbacks, which may run on any thread, to the run's
// thread.
#pragma once

#include <glib-object.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "trellis/glib.hpp"
#include "trellis/token.hpp"

namespace trellis::glib::detail {

// Throws run_error naming `caller` when this thread is not running a
// trellis run (the functions that need the run's token check this first,
// so the message names them rather than current_token).
void require_run(const char* caller);

// Throws run_error naming `caller` outside a run (require_run), or unless
// `name` is a signal of `instance`
// (a GObject) whose arguments suit `shape`.
void check_signal(gpointer instance, const std::string& name, const signal_shape& shape, const char* caller);

// GLib hands our closures and weak references to an emitting (or
// disposing) thread under its own locks, which the C++ memory model, and so
// ThreadSanitizer, cannot see through. This counter makes the hand-off
// explicit: the connecting side bumps it (release) once its state is
// complete and before connecting; the callbacks read it (acquire) before
// touching that state.
inline std::atomic<unsigned> handed_off{0};

// Runs `fn` on the run's thread: at once when called there, else through
// the run's token. Dropped if the run is over (nobody waits any more).
void on_run_thread(std::thread::id run_thread, const trellis::token& token, std::function<void()> fn) noexcept;

}  // namespace trellis::glib::detail

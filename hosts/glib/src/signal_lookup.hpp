// Checking a signal name and its argument types before connecting to it,
// for wait_signal and signal_channel.
#pragma once

#include <glib-object.h>

#include <string>

#include "trellis/glib.hpp"

namespace trellis::glib::detail {

// Throws run_error naming `caller` when this thread is not running a
// trellis run (the functions that need the run's token check this first,
// so the message names them rather than current_token).
void require_run(const char* caller);

// Throws run_error naming `caller` outside a run (require_run), or unless
// `name` is a signal of `instance`
// (a GObject) whose arguments suit `shape`.
void check_signal(gpointer instance, const std::string& name, const signal_shape& shape, const char* caller);

}  // namespace trellis::glib::detail

// trellis::glib::error: a GLib or GIO failure (a GError) as a C++ exception.
#pragma once

#include <glib.h>

#include <stdexcept>

namespace trellis::glib {

// What a GError said: its domain (G_IO_ERROR, G_DBUS_ERROR, ...), its code
// within the domain, and its message, which is also what(). Raised by
// glib::async_call when the operation fails. A plain value: copyable,
// usable on any thread.
class error : public std::runtime_error {
public:
    // Copies domain, code and message; the GError stays the caller's.
    // Throws std::invalid_argument for a null GError.
    explicit error(const GError* e);
    error(GQuark domain, int code, const char* message);

    GQuark domain() const noexcept { return domain_; }
    int code() const noexcept { return code_; }
    // True if this is error `code` of `domain`: e.matches(G_IO_ERROR,
    // G_IO_ERROR_NOT_FOUND), like g_error_matches.
    bool matches(GQuark domain, int code) const noexcept { return domain_ == domain && code_ == code; }

private:
    GQuark domain_;
    int code_;
};

}  // namespace trellis::glib

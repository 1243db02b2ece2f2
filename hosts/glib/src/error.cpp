#include "trellis/glib/error.hpp"

namespace trellis::glib {

namespace {
const GError& checked(const GError* e) {
    if (!e) throw std::invalid_argument("trellis::glib::error: the GError is null");
    return *e;
}
}  // namespace

error::error(const GError* e) : error(checked(e).domain, e->code, e->message) {}

error::error(GQuark domain, int code, const char* message)
    : std::runtime_error(message ? message : "(no message)"), domain_(domain), code_(code) {}

}  // namespace trellis::glib

// trellis::aclose_forcefully: close a resource at once, with no graceful
// shutdown (Trio's aclose_forcefully).
#pragma once

#include "trellis/cancel_scope.hpp"
#include "trellis/streams/async_resource.hpp"
#include "trellis/task.hpp"

namespace trellis {

// Calls resource.aclose() inside an already-cancelled scope: by the
// async_resource contract the resource is then closed without waiting for
// anything. Useful on error paths that must not block. A checkpoint, but
// never blocks for long. The caller's own cancellation is raised at its next
// checkpoint as usual. Throws whatever aclose throws apart from cancelled.
task<> aclose_forcefully(async_resource& resource);

}  // namespace trellis

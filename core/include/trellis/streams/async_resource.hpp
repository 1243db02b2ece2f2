// trellis::async_resource: something that must be closed, and whose graceful
// close may need to wait (Trio's trio.abc.AsyncResource).
//
//   co_await conn.aclose();                      // graceful
//   co_await trellis::aclose_forcefully(conn);   // at once
//
// Style: non-virtual interface. Users call the public aclose(); an
// implementation overrides the protected do_aclose().
//
// Ownership and lifetime: whoever holds the object owns the resource. The
// destructor of a concrete resource releases it at once without blocking
// (no graceful shutdown); aclose() is the graceful path. Threads: use a
// resource only on the thread of the run that uses it.
#pragma once

#include "trellis/task.hpp"

namespace trellis {

class async_resource {
public:
    virtual ~async_resource() = default;
    async_resource(const async_resource&) = delete;
    async_resource& operator=(const async_resource&) = delete;

    // Closes the resource. Contract for every implementation:
    //  * It is a checkpoint.
    //  * It is idempotent: closing a closed resource does nothing more (it is
    //    still a checkpoint).
    //  * If it is cancelled, the resource is closed anyway (ungracefully),
    //    and then cancelled is raised.
    //  * Tasks blocked in another operation on the resource wake up with
    //    closed_resource_error; later operations raise closed_resource_error.
    // Not thread-safe.
    task<> aclose() { return do_aclose(); }

protected:
    async_resource() = default;
    async_resource(async_resource&&) = default;
    async_resource& operator=(async_resource&&) = default;

    virtual task<> do_aclose() = 0;
};

}  // namespace trellis

#include "trellis/streams/aclose_forcefully.hpp"

namespace trellis {

task<> aclose_forcefully(async_resource& resource) {
    cancel_scope scope;
    scope.cancel();
    co_await scope.run([&resource]() { return resource.aclose(); });
}

}  // namespace trellis

#include "trellis/run_statistics.hpp"

#include "runner.hpp"

namespace trellis::lowlevel {

run_statistics current_statistics() {
    return detail::current_runner_or_throw("lowlevel::current_statistics").statistics();
}

}  // namespace trellis::lowlevel

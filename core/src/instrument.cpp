#include "trellis/instrument.hpp"

#include "runner.hpp"

namespace trellis::lowlevel {

void add_instrument(std::shared_ptr<instrument> inst) {
    if (!inst) throw run_error("lowlevel::add_instrument: null instrument");
    detail::current_runner_or_throw("lowlevel::add_instrument").add_instrument(std::move(inst));
}

void remove_instrument(const std::shared_ptr<instrument>& inst) {
    detail::current_runner_or_throw("lowlevel::remove_instrument").remove_instrument(inst);
}

}  // namespace trellis::lowlevel

#include "trellis/event.hpp"

#include "trellis/detail/task_state.hpp"

namespace trellis {

void event::set() {
    if (flag_) return;
    lot_.check_thread("event::set");
    flag_ = true;
    lot_.unpark_all();
}

task<> event::wait() {
    if (flag_)
        co_await checkpoint();
    else
        co_await lot_.park();
}

}  // namespace trellis

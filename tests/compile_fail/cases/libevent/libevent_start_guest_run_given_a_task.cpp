// expect: not an already-created task
#include <trellis/libevent.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
void start(event_base* base) { trellis::libevent::start_guest_run(base, [](trellis::outcome<int>) {}, child(1)); }

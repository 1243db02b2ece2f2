// expect: not an already-created task
#include <trellis/libevent.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int run_on(event_base* base) { return trellis::libevent::run(base, child(1)); }

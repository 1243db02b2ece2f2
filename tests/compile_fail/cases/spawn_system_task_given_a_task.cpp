// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
void in_run() { trellis::lowlevel::spawn_system_task(child(1)); }

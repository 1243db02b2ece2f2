// expect: not an already-created task
#include <trellis/qt.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
void start() { trellis::qt::start_guest_run([](trellis::outcome<int>) {}, child(1)); }

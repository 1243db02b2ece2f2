// expect: not an already-created task
#include <trellis/glib.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
void start() { trellis::glib::start_guest_run([](trellis::outcome<int>) {}, child(1)); }
